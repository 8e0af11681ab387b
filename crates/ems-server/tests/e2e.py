"""End-to-end test of `ems serve` against the NHS MESH sandbox, driven by
clients nobody here wrote: Python `requests` for the NEMS APIs and NHS
England's `mesh-client` to read the subscriber mailboxes.

usage: e2e.py EMS_BINARY MESH_URL            (run by .ci/run)

It starts the real `ems serve` (NEMS mailbox X26ABC1), creates explicit and
generic subscriptions for X26ABC2 and X26ABC3, activates them through the
admin API (one is left `requested`), publishes one message of every example
(every event; the PDS events from the PDS ASID), waits until the outbox is
sent, and checks with mesh-client that each mailbox received exactly the
expected messages: bytes unchanged, the event's WorkflowID, the expected
Mex-Partnerid.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from mesh_client import MeshClient

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "messages"
DATA = ROOT / "crates" / "ems-match" / "data"
KEY = os.environ.get("MESH_SHARED_KEY", "TestKey")
NEMS_MAILBOX = "X26ABC1"
PDS_ASID = "900000000001"

WORKFLOWS = {
    "blood-spot-test-outcome-1": ("BLOODSPOTTESTOUTCOME_1", "Bloodspottestoutcome"),
    "newborn-hearing-1": ("NEWBORNHEARING_1", "Newbornhearing"),
    "nipe-outcome-1": ("NIPEOUTCOME_1", "Nipeoutcome"),
    "pds-birth-notification-1": ("BIRTHNOTIFICATION_1", None),
    "pds-change-of-address-1": ("CHANGEOFADDRESS_1", None),
    "pds-change-of-gp-1": ("CHANGEOFGP_1", None),
    "pds-death-notification-1": ("DEATHNOTIFICATION_1", None),
    "pds-record-change-1": ("PDSRECORDCHANGE_1", None),
    "professional-contacts-1": ("PROFESSIONALCONTACTS_1", "Professionalcontacts"),
    "vaccinations-1": ("VACCINATIONS_1", "Vaccinations"),
}
PUBLISHABLE = [e for e, (_, code) in WORKFLOWS.items() if code]


def b64(v):
    return base64.urlsafe_b64encode(json.dumps(v).encode()).rstrip(b"=").decode()


def jwt(asid, ods):
    claims = {
        "iss": "https://example.nhs.uk",
        "sub": f"https://fhir.nhs.uk/Id/accredited-system|{asid}",
        "exp": int(time.time()) + 3600,
        "iat": int(time.time()),
        "reason_for_request": "directcare",
        "scope": "patient/Bundle.write patient/Subscription.read patient/Subscription.write",
        "requesting_system": f"https://fhir.nhs.uk/Id/accredited-system|{asid}",
        "requesting_organisation": f"https://fhir.nhs.uk/Id/ods-organization-code|{ods}",
    }
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def headers(asid, ods, interaction, content_type="application/fhir+xml"):
    return {
        "fromASID": asid,
        "toASID": "111111111111",
        "Authorization": f"Bearer {jwt(asid, ods)}",
        "InteractionID": interaction,
        "Content-Type": content_type,
    }


def subscription(criteria, mailbox, ods):
    c = criteria.replace("&", "&amp;")
    return (
        '<Subscription xmlns="http://hl7.org/fhir"><meta><profile value="https://fhir.nhs.uk/STU3/StructureDefinition/EMS-Subscription-1"/></meta>'
        '<status value="requested"/><contact><system value="url"/>'
        f'<value value="https://directory.spineservices.nhs.uk/STU3/Organization/{ods}"/><use value="work"/></contact>'
        f'<reason value="e2e"/><criteria value="{c}"/><channel><type value="message"/><endpoint value="{mailbox}"/></channel></Subscription>'
    ).encode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """The real `ems serve` process."""

    def __init__(self, binary, mesh_url, data, port, extra=()):
        self.args = [
            binary, "serve", "--listen", f"127.0.0.1:{port}", "--data", str(data),
            "--mesh-url", mesh_url, "--mesh-mailbox", NEMS_MAILBOX, "--mesh-password", "password",
            "--mesh-shared-key", KEY, "--pds-asid", PDS_ASID,
            "--patients", str(data.parent / "patients.csv"),
            "--postcodes", str(DATA / "sample-postcodes.csv"),
            "--practices", str(DATA / "sample-epraccur.csv"),
            *extra,
        ]
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(data.parent / "server.log", "ab")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)
        for _ in range(200):
            try:
                if requests.get(f"{self.base}/_ems/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                sys.exit(f"e2e: ems serve exited with {self.proc.returncode}")
            time.sleep(0.05)
        sys.exit("e2e: ems serve did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def deliveries(self):
        r = requests.get(f"{self.base}/_ems/deliveries?limit=100000", timeout=10)
        r.raise_for_status()
        return [json.loads(l) for l in r.text.splitlines() if l]

    def wait_sent(self, timeout=120):
        end = time.time() + timeout
        while time.time() < end:
            rows = self.deliveries()
            if all(r["state"] == "sent" for r in rows):
                return rows
            time.sleep(0.2)
        sys.exit(f"e2e: deliveries not sent in {timeout} s: {[r for r in self.deliveries() if r['state'] != 'sent'][:5]}")


def patients_csv(folder):
    (folder / "patients.csv").write_text(
        "nhs_number,postcode,gp_practice\n"
        "9434765919,LS17 7DF,B86001\n"
        "9912003888,LS1 4AP,B86002\n"
        "4010232137,BD1 1AA,B83001\n"
    )


def mesh(url, mailbox):
    return MeshClient(url, mailbox, "password", shared_key=KEY.encode(), verify=False)


def drain(url, mailbox):
    with mesh(url, mailbox) as c:
        c.handshake()
        while True:
            ids = c.list_messages()
            if not ids:
                return
            for mid in ids:
                c.acknowledge_message(mid)


def receive(url, mailbox):
    """Every message in the mailbox: (body, workflow id, partner id); acknowledged."""
    out = []
    with mesh(url, mailbox) as c:
        c.handshake()
        while True:
            ids = c.list_messages()
            if not ids:
                return out
            for mid in ids:
                m = c.retrieve_message(mid)
                out.append((m.read(), m.mex_header("workflowid"), m.mex_header("partnerid") or None))
                m.acknowledge()


def create(server, asid, ods, criteria, mailbox):
    r = requests.post(
        f"{server.base}/STU3/Subscription",
        data=subscription(criteria, mailbox, ods),
        headers=headers(asid, ods, "urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost"),
        timeout=10,
    )
    assert r.status_code == 201, (r.status_code, r.text)
    return r.headers["Location"].rsplit("/", 1)[1]


def activate(server, sid):
    r = requests.post(f"{server.base}/_ems/subscriptions/{sid}/activate", timeout=10)
    assert r.status_code == 200, r.text


def publish(server, body, event, asid="200000000001", ods="RR8"):
    code = WORKFLOWS[event][1] or "Pds"
    return requests.post(
        f"{server.base}/STU3/Events/1/$process-message",
        data=body,
        headers=headers(asid, ods, f"urn:nhs:names:services:events:{code}.Write"),
        timeout=30,
    )


def event_of(name):
    return name.rsplit("-", 1)[0]


def main():
    binary, url = sys.argv[1], sys.argv[2]
    folder = Path(tempfile.mkdtemp(prefix="ems-e2e-"))
    patients_csv(folder)
    for mb in ("X26ABC1", "X26ABC2", "X26ABC3"):
        drain(url, mb)
    server = Server(binary, url, folder / "data", free_port())
    server.start()
    try:
        explicit = lambda nhs, events, tag=None: (
            f"/Bundle?type=message&serviceType=GP&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|{nhs}"
            + "".join(f"&MessageHeader.event={e}" for e in events)
            + (f"&tag={tag}" if tag else "")
        )
        generic = lambda rule, org, event, tag: (
            f"/Bundle?type=message&subscriptionRuleType={rule}&Organization.identifier={org}&MessageHeader.event={event}&tag={tag}"
        )
        a2, a3 = ("200000000002", "X26"), ("200000000003", "X27")
        s2a = create(server, *a2, explicit("9434765919", list(WORKFLOWS)), "X26ABC2")
        s2b = create(server, *a2, explicit("9912003888", ["pds-change-of-address-1", "pds-death-notification-1"], "pdsx"), "X26ABC2")
        s3_gp = create(server, *a3, generic("GP_GP_GP", "B86002", "pds-change-of-gp-1", "gp"), "X26ABC3")
        s3_coa = create(server, *a3, generic("CHO_POSTCODE_CCG", "15F", "pds-change-of-address-1", "coa"), "X26ABC3")
        s3_bn = create(server, *a3, generic("CHO_GP_CCG", "36J", "pds-birth-notification-1", "bn"), "X26ABC3")
        s3_eng = create(server, *a3, generic("COUNTRYCODE", "E92000001", "vaccinations-1", "eng"), "X26ABC3")
        s3_v = create(server, *a3, explicit("9434765919", ["vaccinations-1"], "v"), "X26ABC3")
        s3_req = create(server, *a3, explicit("9912003888", ["pds-record-change-1"], "never"), "X26ABC3")
        for sid in (s2a, s2b, s3_gp, s3_coa, s3_bn, s3_eng, s3_v):
            activate(server, sid)
        # a duplicate is refused
        r = requests.post(f"{server.base}/STU3/Subscription", data=subscription(explicit("9434765919", list(WORKFLOWS)), "X26ABC2", "X26"),
                          headers=headers(*a2, "urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost"), timeout=10)
        assert r.status_code == 422 and "DUPLICATE_REJECTED" in r.text, r.text

        files = sorted(EXAMPLES.glob("*.xml"))
        bodies = {f.name: f.read_bytes() for f in files}
        for f in files:
            event = event_of(f.stem)
            pds = WORKFLOWS[event][1] is None
            r = publish(server, bodies[f.name], event, *((PDS_ASID, "X26") if pds else ()))
            assert r.status_code == 202, (f.name, r.status_code, r.text)

        def pair(*ids_tags):
            return "~~~".join(f"{i}|{t}" for i, t in sorted(ids_tags))

        expected = {"X26ABC2": [], "X26ABC3": []}
        for name in bodies:
            event = event_of(name[:-4])
            wf = WORKFLOWS[event][0]
            nhs = "9434765919" if event in PUBLISHABLE else None
            if nhs:
                expected["X26ABC2"].append((name, wf, None))
            if event in ("pds-change-of-address-1", "pds-death-notification-1"):
                expected["X26ABC2"].append((name, wf, pair((s2b, "pdsx"))))
            if event == "vaccinations-1":
                expected["X26ABC3"].append((name, wf, pair((s3_eng, "eng"), (s3_v, "v"))))
            if event == "pds-change-of-gp-1":
                expected["X26ABC3"].append((name, wf, pair((s3_gp, "gp"))))
            if event == "pds-change-of-address-1":
                expected["X26ABC3"].append((name, wf, pair((s3_coa, "coa"))))
            if event == "pds-birth-notification-1":
                expected["X26ABC3"].append((name, wf, pair((s3_bn, "bn"))))

        rows = server.wait_sent()
        assert len(rows) == sum(len(v) for v in expected.values()), (len(rows), rows)
        by_body = {v: k for k, v in bodies.items()}
        failures = []
        for mailbox, want in expected.items():
            got = []
            for body, wf, partner in receive(url, mailbox):
                name = by_body.get(body)
                if name is None:
                    failures.append(f"{mailbox}: a message whose bytes differ from every published one")
                    continue
                got.append((name, wf, partner))
            if sorted(got, key=str) != sorted(want, key=str):
                failures.append(f"{mailbox}:\n  got  {sorted(got, key=str)}\n  want {sorted(want, key=str)}")
            print(f"e2e: {mailbox}: {len(got)} messages, as expected" if not failures else f"e2e: {mailbox}: mismatch")
        if failures:
            sys.exit("e2e: " + "\n".join(failures))
        # the audit has every call
        audit = [json.loads(l) for l in requests.get(f"{server.base}/_ems/audit?limit=100000", timeout=10).text.splitlines()]
        kinds = [a["kind"] for a in audit]
        assert kinds.count("publish") == len(files) and kinds.count("subscription-create") == 9, kinds
        assert all(a["payload"] for a in audit if a["kind"] == "publish")
        print(f"e2e: ok ({len(files)} messages published, {len(rows)} deliveries, {folder})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
