#!/usr/bin/env python3
"""dbz_events.py — Debezium MySQL change events for the Kafka scenario tests,
as Kafka messages for `kcat -P -K '\\t' -Z` (one "KEY<TAB>VALUE" line per
message; an empty VALUE is a tombstone), and the table they should leave.

  dbz_events.py walkthrough STEP EVENTS EXPECTED [STATE]
      the reference walkthrough on salesdb.CUSTOMER (topic prefix
      salesdb-cdc): STEP load (300 `r` rows), 1 (insert 8887-8889),
      2 (update 8888, 8889), 3 (delete 8887 + tombstone), 4 (insert 9000).
      Values alternate between the {schema, payload} envelope and bare
      payloads (keys always have the envelope: a key's bytes choose its
      partition, and Debezium writes every key of a topic alike).  STATE
      carries the table between steps.
  dbz_events.py churn N KEYS SEED EVENTS EXPECTED [STATE]
      N random inserts, updates and deletes (each delete followed by its
      tombstone) over CUST_IDs 1..KEYS, continuing from STATE; values and
      keys with the envelope (values without it when DBZ_ENVELOPE=0).
  dbz_events.py corpus DIR EVENTS EXPECTED
      the Debezium documentation's create, update and delete of
      inventory.customers (pretty-printed JSON, compacted to one line).

EXPECTED is the table as `lakesync table scan --format jsonl` prints it,
sorted; STATE (JSON) is read when it exists and rewritten.
"""
import json
import os
import random
import sys

TOPIC = "salesdb-cdc.salesdb.CUSTOMER"
SEGS = ["MACHINERY", "AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD"]


def dumps(v):
    return json.dumps(v, separators=(",", ":"))


def row_schema(field):
    return {"type": "struct", "fields": [
        {"type": "int32", "optional": False, "field": "CUST_ID"},
        {"type": "string", "optional": True, "field": "NAME"},
        {"type": "string", "optional": True, "field": "MKTSEGMENT"}],
        "optional": True, "name": TOPIC + ".Value", "field": field}


ENV_SCHEMA = {"type": "struct", "fields": [
    row_schema("before"), row_schema("after"),
    {"type": "struct", "fields": [
        {"type": "string", "optional": False, "field": "version"},
        {"type": "string", "optional": False, "field": "connector"},
        {"type": "string", "optional": False, "field": "name"},
        {"type": "int64", "optional": False, "field": "ts_ms"},
        {"type": "string", "optional": True, "name": "io.debezium.data.Enum", "version": 1,
         "parameters": {"allowed": "true,last,false,incremental"}, "default": "false", "field": "snapshot"},
        {"type": "string", "optional": False, "field": "db"},
        {"type": "string", "optional": True, "field": "table"},
        {"type": "int64", "optional": False, "field": "server_id"},
        {"type": "string", "optional": False, "field": "file"},
        {"type": "int64", "optional": False, "field": "pos"},
        {"type": "int32", "optional": False, "field": "row"}],
        "optional": False, "name": "io.debezium.connector.mysql.Source", "field": "source"},
    {"type": "string", "optional": False, "field": "op"},
    {"type": "int64", "optional": True, "field": "ts_ms"}],
    "optional": False, "name": TOPIC + ".Envelope"}
KEY_SCHEMA = {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "CUST_ID"}],
              "optional": False, "name": TOPIC + ".Key"}


def row(i, name, seg):
    return {"CUST_ID": i, "NAME": name, "MKTSEGMENT": seg}


class Out:
    def __init__(self, path, alternate):
        self.f = open(path, "w")
        self.n = 0
        self.alternate = alternate
        self.bare = False

    def event(self, op, before, after, pos, snapshot="false"):
        payload = {"before": before, "after": after,
                   "source": {"version": "2.5.0.Final", "connector": "mysql", "name": "salesdb-cdc",
                              "ts_ms": 1700000000000, "snapshot": snapshot, "db": "salesdb",
                              "table": "CUSTOMER", "server_id": 1, "file": "mysql-bin.000003",
                              "pos": pos, "row": 0},
                   "op": op, "ts_ms": 1700000000100}
        cid = (after or before)["CUST_ID"]
        env = not self.bare and (not self.alternate or self.n % 2 == 0)
        value = dumps({"schema": ENV_SCHEMA, "payload": payload}) if env else dumps(payload)
        self.write(cid, value)

    def write(self, cid, value):
        key = dumps({"schema": KEY_SCHEMA, "payload": {"CUST_ID": cid}})
        self.f.write(key + "\t" + value + "\n")
        self.n += 1

    def tombstone(self, cid):
        self.write(cid, "")


def load_state(path):
    if path and os.path.exists(path):
        with open(path) as f:
            return {int(k): v for k, v in json.load(f).items()}
    return {}


def save(state, expected, path):
    with open(expected, "w") as f:
        for line in sorted(dumps(r) for r in state.values()):
            f.write(line + "\n")
    if path:
        with open(path, "w") as f:
            json.dump(state, f)


def walkthrough(step, events, expected, statef):
    state = load_state(statef)
    out = Out(events, True)
    if step == "load":
        for i in range(1, 301):
            r = row(i, "Customer#%09d" % i, SEGS[i % 5])
            out.event("r", None, r, 154, "first" if i == 1 else "last" if i == 300 else "true")
            state[i] = r
    elif step == "1":
        for i, seg, pos in ((8887, "BUILDING", 1000), (8888, "FURNITURE", 1300), (8889, "MACHINERY", 1600)):
            r = row(i, "Customer#%09d" % i, seg)
            out.event("c", None, r, pos)
            state[i] = r
    elif step == "2":
        u = row(8888, "Customer#000008888", "HOUSEHOLD")
        out.event("u", state[8888], u, 2000)
        state[8888] = u
        u = row(8889, "Customer#000008889 (updated)", "AUTOMOBILE")
        out.event("u", state[8889], u, 2300)
        state[8889] = u
    elif step == "3":
        out.event("d", state[8887], None, 2600)
        out.tombstone(8887)
        del state[8887]
    elif step == "4":
        r = row(9000, "Customer#000009000", "MACHINERY")
        out.event("c", None, r, 2900)
        state[9000] = r
    else:
        sys.exit("dbz_events: unknown step " + step)
    save(state, expected, statef)


def churn(n, keys, seed, events, expected, statef):
    state = load_state(statef)
    rnd = random.Random(seed)
    out = Out(events, False)
    out.bare = os.environ.get("DBZ_ENVELOPE") == "0"
    pos = 4
    for k in range(n):
        i = rnd.randint(1, keys)
        pos += 300
        if i in state and rnd.random() < 0.2:
            out.event("d", state[i], None, pos)
            out.tombstone(i)
            del state[i]
        else:
            r = row(i, "c%d-%d-%d" % (seed, k, i), SEGS[rnd.randrange(5)])
            out.event("u" if i in state else "c", state.get(i), r, pos)
            state[i] = r
    save(state, expected, statef)


def corpus(d, events, expected):
    with open(events, "w") as f:
        for name in ("mysql-create-with-schema.json", "mysql-update-no-schema.json", "mysql-delete-with-schema.json"):
            with open(os.path.join(d, name)) as g:
                v = json.load(g)
            p = v.get("payload", v)
            cid = (p["after"] or p["before"])["id"]
            f.write(dumps({"id": cid}) + "\t" + dumps(v) + "\n")
            if p["op"] == "d":
                f.write(dumps({"id": cid}) + "\t\n")
    open(expected, "w").close()


def main(a):
    if len(a) >= 4 and a[0] == "walkthrough":
        walkthrough(a[1], a[2], a[3], a[4] if len(a) > 4 else None)
    elif len(a) >= 6 and a[0] == "churn":
        churn(int(a[1]), int(a[2]), int(a[3]), a[4], a[5], a[6] if len(a) > 6 else None)
    elif len(a) == 4 and a[0] == "corpus":
        corpus(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
