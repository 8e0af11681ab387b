"""Interop peer for the ems-mesh tests, using NHS England's mesh-client.

usage: interop.py URL MAILBOX send TO WORKFLOW PARTNER_ID FILE
       interop.py URL MAILBOX receive      (prints one JSON line per message, acknowledges)
Shared key from MESH_SHARED_KEY (default TestKey); password `password`.
"""
import json
import os
import sys

from mesh_client import MeshClient


def main():
    url, mailbox, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
    key = os.environ.get("MESH_SHARED_KEY", "TestKey").encode()
    with MeshClient(url, mailbox, "password", shared_key=key, verify=False) as c:
        c.handshake()
        if cmd == "send":
            to, workflow, partner, path = sys.argv[4:8]
            with open(path, "rb") as f:
                body = f.read()
            mid = c.send_message(to, body, workflow_id=workflow, partner_id=partner, subject="interop", local_id="py-1")
            print(json.dumps({"message_id": mid}))
        elif cmd == "receive":
            for mid in c.list_messages():
                m = c.retrieve_message(mid)
                body = m.read()
                print(json.dumps({
                    "id": mid,
                    "workflow_id": m.mex_header("workflowid"),
                    "partner_id": m.mex_header("partnerid"),
                    "local_id": m.mex_header("localid"),
                    "body": body.decode("utf-8"),
                }))
                m.acknowledge()
        else:
            sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
