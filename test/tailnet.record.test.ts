// tailnet.sh's record of a VM's tailnet node: which machine is recorded as this VM's, and which is deleted when it goes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hostScript } from "../components/hostCommands";
import { fakeTailscale, RAIDER_KEY, RAIDER_RECORD, recordThenDelete, runTailnet, sharedTailnet, status } from "./support/tailnetScript";
import { requireTool } from "./support/tools";

test("tailnet.sh: two hosts' VMs of the same name on one tailnet: removing raider's deletes raider's machine only, with the API key or an OAuth client", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    for (const creds of <Record<string, string>[]>[
        { TS_API_KEY: "tskey-api-secret" },
        { TS_OAUTH_CLIENT_ID: "cid", TS_OAUTH_CLIENT_SECRET: "csecret" },
    ]) {
        const api = await fakeTailscale({ devices: sharedTailnet() });
        try {
            const r = await runTailnet({ TS_BASE_URL: api.url, PULUMI_COMMAND_STDOUT: RAIDER_RECORD, ...creds });
            assert.equal(r.code, 0, r.stderr);
            const bearer = "TS_API_KEY" in creds ? "Bearer tskey-api-secret" : "Bearer oauth-token";
            assert.deepEqual(
                api.calls.filter((c) => !c.startsWith("POST /api/v2/oauth/token")),
                [`GET /api/v2/device/nRaiderMyapp1CNTRL?fields=all ${bearer}`, `DELETE /api/v2/device/nRaiderMyapp1CNTRL ${bearer}`],
            );
            assert.deepEqual(
                api.devices.map((d) => d.nodeId),
                ["nStorageMyapp1CNTRL", "nLaptop1CNTRL"],
                "storage's project-myapp is still there",
            );
            assert.match(r.stderr, /deleted tailnet machine project-myapp \(nRaiderMyapp1CNTRL, project-myapp-1\.bat-boa\.ts\.net\)/);
        } finally {
            api.close();
        }
    }
});

test("tailnet.sh deletes nothing it cannot prove is this VM's: no record, a gone node, another hostname or missing tags", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: sharedTailnet() });
    const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret" };
    try {
        for (const stdout of ["", "not json", "{}"]) {
            const r = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: stdout });
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stderr, /no tailnet node was recorded for project-myapp: deleting none/);
        }
        assert.equal(api.calls.length, 0, "no record: not even a look by name");

        const gone = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: JSON.stringify({ nodeId: "nGone1CNTRL" }) });
        assert.equal(gone.code, 0, gone.stderr);
        assert.match(gone.stderr, /already gone/);

        const laptop = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: JSON.stringify({ nodeId: "nLaptop1CNTRL" }) });
        assert.equal(laptop.code, 0, laptop.stderr);
        assert.match(
            laptop.stderr,
            /WARNING: not deleting tailnet node nLaptop1CNTRL.*its hostname is laptop; it lacks the tags tag:project-vm/,
        );

        const untagged = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_TAGS: "tag:project-vm,tag:raider" });
        assert.match(untagged.stderr, /WARNING: not deleting .*it lacks the tags tag:raider/);

        const hostile = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: JSON.stringify({ nodeId: "../tailnet/-/devices" }) });
        assert.notEqual(hostile.code, 0);
        assert.match(hostile.stderr, /is not a Tailscale node ID/);

        assert.ok(!api.calls.some((c) => c.startsWith("DELETE")), api.calls.join("\n"));
        assert.equal(api.devices.length, 3);
    } finally {
        api.close();
    }
    const script = hostScript("tailnet.sh", "tailnet_node_delete");
    assert.ok(!/-H "Authorization/.test(script), "no bearer token in curl's arguments");
});

test("tailnet.sh records the node the guest says it is, once the API confirms it is this VM's machine, made with this VM's auth key", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: sharedTailnet() });
    const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY };
    try {
        const r = await runTailnet({ ...creds, FAKE_TS_STATUS: status("nRaiderMyapp1CNTRL", "nodekey:raider") }, "tailnet_node_record");
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), JSON.parse(RAIDER_RECORD), "what the delete reads back");
        assert.match(r.stderr, /project-myapp is tailnet node nRaiderMyapp1CNTRL \(project-myapp-1\.bat-boa\.ts\.net\)/);
        assert.match(
            r.stderr,
            /another machine already holds the name project-myapp on the tailnet .* this VM is project-myapp-1\. That machine is not deleted on this VM's behalf/,
        );
        assert.doesNotMatch(r.stderr, /WARNING/);

        // Fractions of a second, as RFC 3339 allows, are the same time.
        const fraction = await runTailnet(
            { ...creds, TS_KEY_CREATED: "2025-03-02T14:02:10.734Z", FAKE_TS_STATUS: status("nRaiderMyapp1CNTRL", "nodekey:raider") },
            "tailnet_node_record",
        );
        assert.deepEqual(JSON.parse(fraction.stdout), JSON.parse(RAIDER_RECORD), fraction.stderr);

        // A guest that has not joined, or names a node the API does not know, fails the create (retried at the next up).
        for (const [id, key, why] of [
            ["nNoSuch1CNTRL", "nodekey:x", /which the Tailscale API does not know/],
            ["", "", /has not joined the tailnet/],
        ] as const) {
            const bad = await runTailnet({ ...creds, FAKE_TS_STATUS: status(id, key) }, "tailnet_node_record");
            assert.notEqual(bad.code, 0, `${id} refused`);
            assert.match(bad.stderr, why);
            assert.equal(bad.stdout, "");
        }
        // A guest naming another node (a node key that is not that node's, or another machine) is not recorded.
        for (const [id, key, why] of [
            ["nStorageMyapp1CNTRL", "nodekey:raider", /its node key is not the one the VM holds/],
            ["nLaptop1CNTRL", "nodekey:laptop", /its hostname is laptop/],
        ] as const) {
            const bad = await runTailnet({ ...creds, FAKE_TS_STATUS: status(id, key) }, "tailnet_node_record");
            assert.equal(bad.code, 0, bad.stderr);
            assert.match(bad.stderr, new RegExp(`WARNING: not recording tailnet node ${id} .*not provably its machine: .*${why.source}`));
            assert.equal(JSON.parse(bad.stdout).nodeId, undefined, `${id} not recorded`);
        }
        const stopped = await runTailnet(
            { ...creds, FAKE_DOMSTATE: "shut off", FAKE_TS_STATUS: status("nRaiderMyapp1CNTRL", "nodekey:raider") },
            "tailnet_node_record",
        );
        assert.notEqual(stopped.code, 0);
        assert.match(stopped.stderr, /project-myapp is not running: its tailnet node can only be read from the guest/);
        assert.ok(!api.calls.some((c) => c.startsWith("DELETE")));
    } finally {
        api.close();
    }
});

test("tailnet.sh: a hostile guest reporting a peer's node ID and node key (a machine made before this VM's auth key) is not recorded, and nothing is deleted when the VM goes", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    // Raider's guest, root-compromised, reports storage's myapp: it sees its ID and key among its peers.
    const r = await recordThenDelete(status("nStorageMyapp1CNTRL", "nodekey:storage"));
    assert.equal(r.record.code, 0, `pulumi up goes on: ${r.record.stderr}`);
    assert.equal(JSON.parse(r.record.stdout).nodeId, undefined, "nothing recorded");
    assert.match(
        r.record.stderr,
        /WARNING: not recording tailnet node nStorageMyapp1CNTRL \(project-myapp\.bat-boa\.ts\.net\), which project-myapp says it is: not provably its machine: it joined the tailnet at 2025-03-01T09:12:40Z, before the VM's auth key was made \(2025-03-02T14:02:10Z\)\. Nothing is deleted for it/,
    );
    assert.match(r.record.stderr, /remove it in the admin console if it is a leftover/);
    assert.equal(r.keep.code, 0, r.keep.stderr);
    assert.deepEqual(
        JSON.parse(r.keep.stdout),
        JSON.parse(r.record.stdout),
        "an update (the VM off) keeps it unrecorded, without the guest",
    );
    assert.equal(r.del.code, 0, r.del.stderr);
    assert.match(
        r.del.stderr,
        /no tailnet node was recorded for project-myapp \(the node its guest named was not provably its own: nStorageMyapp1CNTRL .*\): deleting none/,
    );
    assert.ok(!r.calls.some((c) => c.startsWith("DELETE")), r.calls.join("\n"));
    assert.deepEqual(
        r.left,
        ["nStorageMyapp1CNTRL", "nRaiderMyapp1CNTRL", "nLaptop1CNTRL"],
        "storage's myapp (and every other machine) stays",
    );
});

test("tailnet.sh: a guest reporting no node key is not recorded (the key check cannot be skipped)", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    for (const guest of [status("nStorageMyapp1CNTRL"), status("nRaiderMyapp1CNTRL"), status("nRaiderMyapp1CNTRL", "")]) {
        const r = await recordThenDelete(guest);
        const id = JSON.parse(guest).Self.ID;
        assert.equal(r.record.code, 0, r.record.stderr);
        assert.equal(JSON.parse(r.record.stdout).nodeId, undefined, `${guest}: nothing recorded`);
        assert.match(r.record.stderr, new RegExp(`WARNING: not recording tailnet node ${id} .*the guest reported no node key`));
        assert.ok(!r.calls.some((c) => c.startsWith("DELETE")), r.calls.join("\n"));
        assert.equal(r.left.length, 3);
    }
});

test("tailnet.sh: a node it cannot date against this VM's auth key is not recorded: no key time, no node time, or made after the key expired", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const raider = status("nRaiderMyapp1CNTRL", "nodekey:raider");
    for (const [env, why] of [
        [{ TS_KEY_CREATED: "" }, /the VM's auth key has no known creation time/],
        [{ TS_KEY_CREATED: "yesterday" }, /the VM's auth key has no known creation time/],
        // Not the API's notation (UTC), or Go's zero time: no bound at all, so no proof.
        [{ TS_KEY_CREATED: "2025-03-02T16:02:10+02:00" }, /the VM's auth key has no known creation time/],
        [{ TS_KEY_CREATED: "0001-01-01T00:00:00Z" }, /the VM's auth key has no known creation time/],
        [
            { TS_KEY_EXPIRES: "2025-03-02T14:05:00Z" },
            /it joined the tailnet at 2025-03-02T14:07:31Z, after the VM's auth key expired \(2025-03-02T14:05:00Z\)/,
        ],
    ] as const) {
        const r = await recordThenDelete(raider, env);
        assert.equal(r.record.code, 0, r.record.stderr);
        assert.equal(JSON.parse(r.record.stdout).nodeId, undefined, JSON.stringify(env));
        assert.match(r.record.stderr, why);
        assert.deepEqual(r.left.length, 3, "nothing deleted");
    }
    const api = await fakeTailscale({ devices: sharedTailnet().map((d) => ({ ...d, created: undefined })) });
    try {
        const r = await runTailnet(
            { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY, FAKE_TS_STATUS: raider },
            "tailnet_node_record",
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).nodeId, undefined);
        assert.match(r.stderr, /the API gives no time it joined/);
    } finally {
        api.close();
    }
});

test("tailnet.sh: the honest guest's own machine is recorded, and deleting the VM deletes exactly it", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const r = await recordThenDelete(status("nRaiderMyapp1CNTRL", "nodekey:raider"));
    assert.deepEqual(JSON.parse(r.record.stdout), JSON.parse(RAIDER_RECORD), r.record.stderr);
    assert.deepEqual(JSON.parse(r.keep.stdout), JSON.parse(RAIDER_RECORD), r.keep.stderr);
    assert.equal(r.del.code, 0, r.del.stderr);
    assert.deepEqual(
        r.calls.filter((c) => c.startsWith("DELETE")),
        ["DELETE /api/v2/device/nRaiderMyapp1CNTRL Bearer tskey-api-secret"],
    );
    assert.deepEqual(r.left, ["nStorageMyapp1CNTRL", "nLaptop1CNTRL"]);
});

test("tailnet.sh: another host's same-name machine that joined while this VM's key was valid is not recorded, nor deleted later", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    // Storage's myapp rejoined within raider's key's life; raider's root guest reports its ID and key.
    const devices = sharedTailnet().map((d) => (d.nodeId === "nStorageMyapp1CNTRL" ? { ...d, created: "2025-03-02T15:10:00Z" } : d));
    const api = await fakeTailscale({ devices });
    try {
        const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY };
        const rec = await runTailnet({ ...creds, FAKE_TS_STATUS: status("nStorageMyapp1CNTRL", "nodekey:storage") }, "tailnet_node_record");
        assert.equal(rec.code, 0, rec.stderr);
        assert.match(
            rec.stderr,
            /not recording tailnet node nStorageMyapp1CNTRL .*nRaiderMyapp1CNTRL of the same name and tags joined the tailnet too while this VM's auth key was valid/,
        );
        await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: rec.stdout }, "tailnet_node_delete");
        assert.ok(
            api.devices.some((d) => d.nodeId === "nStorageMyapp1CNTRL"),
            "storage's machine stays",
        );
        assert.ok(!api.calls.some((c) => c.startsWith("DELETE")));
    } finally {
        api.close();
    }
});
