// A base image is verified before any VM is built on it: fetch-image.sh, run as the program runs
// it, against images served on 127.0.0.1 (and the config's choice of where a checksum comes from).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { parseConfig } from "../components/config";
import { runHostScript } from "../components/hostRun";
import { requireTool } from "./support/tools";

const IMAGE = Buffer.from("QFI\xfb pretend qcow2 image ".repeat(4096), "latin1");
const SHA = createHash("sha512").update(IMAGE).digest("hex");
const OTHER = "0".repeat(128);
const IMAGE2 = Buffer.concat([IMAGE, Buffer.from("rebuilt")]);
const SHA2 = createHash("sha512").update(IMAGE2).digest("hex");
const requests: string[] = [];
let server: http.Server;
let base = "";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-fetch-"));

before(async () => {
    server = http.createServer((req, res) => {
        requests.push(req.url ?? "");
        if (req.url === "/images/x.qcow2" || req.url === "/mirror/x.qcow2") res.end(IMAGE);
        else if (req.url === "/images/x2.qcow2") res.end(IMAGE2);
        else if (req.url === "/images/SHA512SUMS")
            res.end(`${OTHER}  y.qcow2\n${SHA}  x.qcow2\n${SHA2} *x2.qcow2\n${SHA.slice(0, 64)}  short.qcow2\n`);
        else {
            res.statusCode = 404;
            res.end();
        }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/images`;
});
after(() => {
    server.close();
    fs.rmSync(work, { recursive: true, force: true });
});

/** Runs image_fetch as the program does (asynchronously: the server answers from this process). */
async function fetchImage(env: Record<string, string>, fn = "image_fetch") {
    const cache = env.IMAGE_CACHE ?? path.join(work, "cache");
    const {
        code: status,
        stdout,
        stderr,
    } = await runHostScript({
        script: "fetch-image.sh",
        fn,
        env: { PATH: process.env.PATH, LIBVIRT_URI: "qemu:///system", IMAGE_SHA512: "", IMAGE_SUMS_URL: "", IMAGE_CACHE: cache, ...env },
    });
    return { status, stdout: stdout.trim(), stderr };
}

test("an image whose sha512 the config gives is downloaded, checked and cached under its sum", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const cache = path.join(work, "given");
    const r = await fetchImage({ IMAGE_URL: `${base}/x.qcow2`, IMAGE_SHA512: SHA.toUpperCase(), IMAGE_CACHE: cache });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${cache}/${SHA}.qcow2`);
    assert.ok(fs.readFileSync(r.stdout).equals(IMAGE));
    const n = requests.length;
    assert.equal((await fetchImage({ IMAGE_URL: `${base}/x.qcow2`, IMAGE_SHA512: SHA, IMAGE_CACHE: cache })).stdout, r.stdout);
    assert.equal(requests.length, n, "the verified copy is used again without a download");
});

test("without a sha512 the image's line of SHA512SUMS is the sum", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const r = await fetchImage({
        IMAGE_URL: `${base}/x.qcow2`,
        IMAGE_SUMS_URL: `${base}/SHA512SUMS`,
        IMAGE_CACHE: path.join(work, "sums"),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.readFileSync(r.stdout).equals(IMAGE));
});

test("a line of SHA512SUMS in binary mode (sum, then *name) is read too", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const r = await fetchImage({
        IMAGE_URL: `${base}/x2.qcow2`,
        IMAGE_SUMS_URL: `${base}/SHA512SUMS`,
        IMAGE_CACHE: path.join(work, "binary"),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, path.join(work, "binary", `${SHA2}.qcow2`));
});

test("a cached copy that no longer has its sum (corrupted on disk) is downloaded again, never used", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const cache = path.join(work, "corrupt");
    const first = await fetchImage({ IMAGE_URL: `${base}/x.qcow2`, IMAGE_SHA512: SHA, IMAGE_CACHE: cache });
    assert.equal(first.status, 0, first.stderr);
    fs.writeFileSync(first.stdout, IMAGE.subarray(0, 1000));
    const n = requests.length;
    const again = await fetchImage({ IMAGE_URL: `${base}/x.qcow2`, IMAGE_SHA512: SHA, IMAGE_CACHE: cache });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(requests.length, n + 1, "downloaded again");
    assert.ok(fs.readFileSync(again.stdout).equals(IMAGE), "the cache holds the image again");
});

test("a sum that is no SHA-512 (a SHA-256 in SHA512SUMS) is refused before anything is downloaded", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const r = await fetchImage({
        IMAGE_URL: `${base}/short.qcow2`,
        IMAGE_SUMS_URL: `${base}/SHA512SUMS`,
        IMAGE_CACHE: path.join(work, "short"),
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the SHA-512 of .*short\.qcow2 is not 128 hexadecimal digits/);
    assert.ok(!requests.includes("/images/short.qcow2"), "no download");
});

test("a mismatch fails naming the URL and both sums, and leaves nothing to build on", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const cache = path.join(work, "bad");
    const r = await fetchImage({ IMAGE_URL: `${base}/x.qcow2`, IMAGE_SHA512: OTHER, IMAGE_CACHE: cache });
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, "", "no file for the volume");
    assert.match(r.stderr, new RegExp(`base image ${base}/x\\.qcow2 has SHA-512 ${SHA}, but ${OTHER} was expected: it is not used`));
    assert.deepEqual(fs.readdirSync(cache), [], "neither the download nor a temporary file stays");
});

test("an image SHA512SUMS does not list, or a sums file that cannot be read, is refused", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const missing = await fetchImage({ IMAGE_URL: `${base}/z.qcow2`, IMAGE_SUMS_URL: `${base}/SHA512SUMS` });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /SHA512SUMS lists no z\.qcow2: its SHA-512 is unknown, so it is not used/);
    const unreadable = await fetchImage({ IMAGE_URL: `${base}/x.qcow2`, IMAGE_SUMS_URL: `${base}/NOPE` });
    assert.notEqual(unreadable.status, 0);
    assert.match(unreadable.stderr, /could not read .*NOPE to verify/);
});

test("a local image is used where it is, and checked when a sha512 is given", async () => {
    const file = path.join(work, "local.qcow2");
    fs.writeFileSync(file, IMAGE);
    assert.equal((await fetchImage({ IMAGE_URL: file })).stdout, file);
    assert.equal((await fetchImage({ IMAGE_URL: `file://${file}`, IMAGE_SHA512: SHA })).stdout, file);
    const wrong = await fetchImage({ IMAGE_URL: file, IMAGE_SHA512: OTHER });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /has SHA-512 [0-9a-f]{128}, but the config says 0{128}: not used/);
});

test("the config says where each image's sum comes from", () => {
    const config = (extra: Record<string, unknown>) =>
        parseConfig({
            sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJb3Aa5Ng8YsqOWzf4zXFf3R0MFaJjZ80BCDqRgv/yen a@b"],
            tailscale: { enabled: false },
            ...extra,
        });
    const debian = "https://cloud.debian.org/images/cloud/forky/20261101/debian-14-genericcloud-amd64-20261101.qcow2";
    assert.equal(config({ baseImage: debian }).baseImages[0].sumsUrl, "https://cloud.debian.org/images/cloud/forky/20261101/SHA512SUMS");
    assert.equal(
        config({}).baseImages[0].sumsUrl,
        "https://cloud.debian.org/images/cloud/forky/daily/latest/SHA512SUMS",
        "the default image too",
    );
    const given = config({ baseImages: [{ version: "v1", url: debian, sha512: SHA.toUpperCase() }] }).baseImages[0];
    assert.deepEqual([given.sha512, given.sumsUrl], [SHA, undefined], "a given sum wins, lowercased");
    assert.throws(
        () => config({ baseImage: "https://mirror.example/x.qcow2" }),
        /baseImage is not a cloud\.debian\.org image .*needs its sha512/,
    );
    assert.throws(() => config({ baseImage: "http://mirror.example/x.qcow2" }), /baseImage is a plain http:\/\/ URL without a sha512/);
    assert.throws(
        () => config({ baseImages: [{ version: "v1", url: debian, sha512: "abc" }] }),
        /baseImages\[0\]\.sha512 must be the image's SHA-512: 128 hexadecimal digits/,
    );
    assert.equal(config({ baseImage: "http://mirror.example/x.qcow2", baseImageSha512: SHA }).baseImages[0].sha512, SHA);
});

/** An update of the fetch (the program's update command) after the run `before`, with `env`. */
function refetch(before: { stdout: string; stderr: string }, env: Record<string, string>) {
    return fetchImage(
        { IMAGE_VERSION: "2026-11", PULUMI_COMMAND_STDOUT: before.stdout, PULUMI_COMMAND_STDERR: before.stderr, ...env },
        "image_refetch",
    );
}

test("a version's image cannot change: an update to another image is refused naming the key, the same image at another url is fine", async (t) => {
    if (!requireTool("curl", "curl", (r) => t.skip(r))) return;
    const cache = path.join(work, "update");
    const first = await fetchImage({ IMAGE_URL: `${base}/x.qcow2`, IMAGE_SHA512: SHA, IMAGE_CACHE: cache });
    assert.equal(first.status, 0, first.stderr);

    const moved = await refetch(first, {
        IMAGE_URL: `${base.replace(/images$/, "mirror")}/x.qcow2`,
        IMAGE_SHA512: SHA,
        IMAGE_CACHE: cache,
    });
    assert.equal(moved.status, 0, moved.stderr);
    assert.equal(moved.stdout, first.stdout, "the same verified file");

    const other = await refetch(first, { IMAGE_URL: `${base}/x2.qcow2`, IMAGE_SHA512: SHA2, IMAGE_CACHE: cache });
    assert.equal(other.status, 1);
    assert.equal(other.stdout, "", "nothing for the volume");
    assert.match(
        other.stderr,
        new RegExp(
            `project-vms:baseImages: version 2026-11 is now the image ${base}/x2\\.qcow2 \\(SHA-512 ${SHA2}\\), but its volume was made from the image with SHA-512 ${SHA}`,
        ),
    );
    assert.match(other.stderr, /add the new image as a new version: project-vm base add <version> <url>/);

    const bySums = await fetchImage({
        IMAGE_URL: `${base}/x.qcow2`,
        IMAGE_SUMS_URL: `${base}/SHA512SUMS`,
        IMAGE_CACHE: path.join(work, "update-sums"),
    });
    const wrongSha = await refetch(bySums, {
        IMAGE_URL: `${base}/x2.qcow2`,
        IMAGE_SHA512: SHA2,
        IMAGE_CACHE: path.join(work, "update-sums"),
    });
    assert.equal(wrongSha.status, 1, "also when the first sum came from SHA512SUMS");
});

test("a local image rebuilt in place is refused on the next update; a run with nothing on record keeps the volume, saying so", async () => {
    const file = path.join(work, "rebuilt.qcow2");
    fs.writeFileSync(file, IMAGE);
    const first = await fetchImage({ IMAGE_URL: file });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`\\(SHA-512 ${SHA}\\)`), "its sum is on record");
    fs.writeFileSync(file, IMAGE2);
    const changed = await refetch(first, { IMAGE_URL: file });
    assert.equal(changed.status, 1);
    assert.match(
        changed.stderr,
        new RegExp(
            `version 2026-11 is now the image ${file} \\(SHA-512 ${SHA2}\\), but its volume was made from the image with SHA-512 ${SHA}`,
        ),
    );

    const unknown = await refetch({ stdout: file, stderr: "" }, { IMAGE_URL: file });
    assert.equal(unknown.status, 0, unknown.stderr);
    assert.equal(unknown.stdout, file);
    assert.match(unknown.stderr, /version 2026-11: the image its volume was made from is not on record; it is kept as it is/);
});
