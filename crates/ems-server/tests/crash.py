"""Crash test of `ems serve`: publish 1,000 messages while the server process
is killed (SIGKILL) and restarted at random moments; then check the MESH
sandbox mailboxes with NHS England's mesh-client.

usage: crash.py EMS_BINARY MESH_URL [COUNT] [SEED]      (run by .ci/run)

Every message has its own MessageHeader id and matches two subscriptions
(an explicit one for X26ABC2, a generic COUNTRYCODE one for X26ABC3); every
tenth is invalid (must be refused and never delivered). Afterwards:

* every message answered 202 is in each mailbox exactly once;
* every message answered with an error is in no mailbox;
* a message whose request got no answer (the server was killed while it was
  in flight) is "in doubt": the server may have committed it just before it
  died, which no server can tell the client. It must be in both mailboxes
  once or in neither (message and outbox rows commit atomically), never twice.

Kills also land while the delivery worker is sending, so rows left `sending`
are resolved through MESH tracking by local id after each restart.
"""
import random
import re
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import EXAMPLES, Server, create, drain, free_port, patients_csv, publish, receive  # noqa: E402

HEADER_ID = re.compile(rb'<MessageHeader>\s*<id value="([0-9a-f-]{36})"/>')


def main():
    binary, url = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 15)
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ems-crash-"))
    patients_csv(folder)
    for mb in ("X26ABC1", "X26ABC2", "X26ABC3"):
        drain(url, mb)
    server = Server(binary, url, folder / "data", free_port(), extra=["--auto-activate"])
    server.start()
    create(server, "200000000002", "X26", "/Bundle?type=message&serviceType=GP&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|9434765919&MessageHeader.event=vaccinations-1", "X26ABC2")
    create(server, "200000000003", "X27", "/Bundle?type=message&subscriptionRuleType=COUNTRYCODE&Organization.identifier=E92000001&MessageHeader.event=vaccinations-1&tag=eng", "X26ABC3")

    template = (EXAMPLES / "vaccinations-1-new.xml").read_bytes()
    old_id = HEADER_ID.search(template).group(1)
    messages = []
    for i in range(count):
        mid = str(uuid.uuid4()).encode()
        body = template.replace(old_id, mid)
        if i % 10 == 9:
            body = body.replace(b'<type value="message"/>', b'<type value="collection"/>')
        messages.append((mid.decode(), body))

    outcome = {}  # message id -> "202" | "error" | "doubt"
    lock = threading.Lock()
    next_index = [0]
    up = threading.Event()
    up.set()
    done = threading.Event()
    kills = [0]

    def publisher():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(messages):
                return
            mid, body = messages[i]
            up.wait()
            try:
                r = publish(server, body, "vaccinations-1")
                result = "202" if r.status_code == 202 else "error"
            except requests.RequestException:
                result = "doubt"
            with lock:
                outcome[mid] = result

    def killer():
        while not done.is_set():
            time.sleep(rng.uniform(0.1, 1.2))
            if done.is_set():
                return
            up.clear()
            server.kill()
            kills[0] += 1
            server.start()
            up.set()

    threads = [threading.Thread(target=publisher) for _ in range(4)]
    k = threading.Thread(target=killer)
    for t in threads:
        t.start()
    k.start()
    for t in threads:
        t.join()
    # keep killing a little while the outbox drains, then let it finish
    time.sleep(1.5)
    done.set()
    k.join()
    rows = server.wait_sent(timeout=300)
    # rows claimed more than once: a kill hit them while they were `sending`
    # (resolved through tracking) or a send failed (retried)
    reclaimed = sum(1 for r in rows if r["attempts"] > 1)
    try:
        seen = {}
        published = dict(messages)
        for mb in ("X26ABC2", "X26ABC3"):
            counts = {}
            for body, wf, _ in receive(url, mb):
                m = HEADER_ID.search(body)
                assert m, f"{mb}: a delivery without a MessageHeader id"
                assert wf == "VACCINATIONS_1", wf
                mid = m.group(1).decode()
                counts[mid] = counts.get(mid, 0) + 1
                assert published.get(mid) == body, f"{mb}: bytes changed for {mid}"
            seen[mb] = counts
        failures = []
        stats = {"202": 0, "error": 0, "doubt": 0, "doubt_delivered": 0}
        for mid, result in outcome.items():
            c2, c3 = seen["X26ABC2"].get(mid, 0), seen["X26ABC3"].get(mid, 0)
            stats[result] += 1
            if result == "202" and (c2, c3) != (1, 1):
                failures.append(f"{mid}: 202 but delivered {c2}/{c3} times")
            if result == "error" and (c2, c3) != (0, 0):
                failures.append(f"{mid}: refused but delivered {c2}/{c3} times")
            if result == "doubt":
                if (c2, c3) not in ((0, 0), (1, 1)):
                    failures.append(f"{mid}: in doubt and delivered {c2}/{c3} times")
                stats["doubt_delivered"] += c2
        unknown = set(seen["X26ABC2"]) | set(seen["X26ABC3"])
        unknown -= set(outcome)
        if unknown:
            failures.append(f"{len(unknown)} delivered messages were never published")
        invalid_202 = [m for i, (m, _) in enumerate(messages) if i % 10 == 9 and outcome.get(m) == "202"]
        if invalid_202:
            failures.append(f"invalid messages accepted: {invalid_202[:3]}")
        if len(outcome) != count:
            failures.append(f"{count - len(outcome)} messages were not attempted")
        print(f"crash: {count} messages, {kills[0]} SIGKILLs; {stats}; {len(rows)} outbox rows, "
              f"{reclaimed} claimed more than once (not in MESH after a kill, or a failed send)")
        if failures:
            sys.exit("crash: FAILED\n" + "\n".join(failures[:20]))
        if kills[0] < 3:
            sys.exit("crash: too few kills to mean anything")
        print("crash: ok - every 202 delivered exactly once per mailbox, no refused message delivered")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
