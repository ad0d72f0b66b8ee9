// runHostScript as the CLI's backups use it: each stderr line handed on as it comes, whole, however
// the pipe cuts the text, and a last line without a newline too.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { runHostScript } from "../components/hostRun";

test("stderr reaches onErr line by line: several in one write, one over two writes, the last without a newline", async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-hostrun-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, "lib.sh"), "set -euo pipefail\n");
    fs.writeFileSync(
        path.join(dir, "say.sh"),
        ["say_lines() {", "    printf 'one\\ntwo\\nthr' >&2", "    sleep 0.2", "    printf 'ee\\nlast' >&2", "    echo done", "}", ""].join(
            "\n",
        ),
    );
    const lines: string[] = [];
    const r = await runHostScript({ script: "say.sh", fn: "say_lines", dir, env: { PATH: process.env.PATH }, onErr: (l) => lines.push(l) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines, ["one", "two", "three", "last"]);
    assert.equal(r.stderr, "one\ntwo\nthree\nlast");
    assert.equal(r.stdout, "done\n");
});
