// A clean `npm ci` prints nothing a user must puzzle over: every dependency's install script is
// decided in package.json's allowScripts (npm 11 skips undecided ones and warns about them).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { REPO } from "./support/schemas";

test("every dependency install script is approved or denied in allowScripts", (t) => {
    const r = spawnSync("npm", ["install-scripts", "ls", "--json"], { cwd: REPO, encoding: "utf8" });
    if (r.status !== 0 && /Unknown command/i.test(r.stderr + r.stdout))
        return t.skip(`this npm (${spawnSync("npm", ["--version"], { encoding: "utf8" }).stdout.trim()}) has no install-scripts command`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).allowScripts, [], "undecided install scripts: decide each in package.json allowScripts");
});
