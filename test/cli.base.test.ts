// Base image updates as a routine: `project-vm base` against copies of the shipped stacks, a
// stand-in Pulumi whose state says which VM runs on which version, and a stand-in SHA512SUMS.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { systemDiskBases, systemDiskUrn } from "../cli/pulumi";
import { movingImageProblem, sha512FromSums } from "../cli/commands";
import { World } from "./support/cli";

const SHA = "ab".repeat(64);
const url = (d: string) => `https://cloud.debian.org/images/cloud/forky/${d}/debian-14-genericcloud-amd64-${d}.qcow2`;

function world(t: { after(fn: () => void): void }): World {
    const w = new World();
    t.after(() => w.cleanup());
    return w;
}

/** A World whose `fetch` of SHA512SUMS answers for the dated images of Debian's layout. */
function withSums(w: World) {
    const fetched: string[] = [];
    const deps = w.deps();
    deps.fetchText = async (u) => {
        fetched.push(u);
        const d = /forky\/(\d{8})\/SHA512SUMS$/.exec(u)?.[1];
        if (!d) throw new Error("HTTP 404");
        return `${"cd".repeat(64)}  debian-14-nocloud-amd64-${d}.qcow2\n${SHA}  debian-14-genericcloud-amd64-${d}.qcow2\n`;
    };
    return { deps, fetched };
}

/** The storage stack with a second version, 2026-12, added by `base add`; `first` is the version it had. */
async function twoVersions(t: { after(fn: () => void): void }): Promise<{ w: World; first: string }> {
    const w = world(t);
    const { deps } = withSums(w);
    const { main } = await import("../cli/main");
    assert.equal(await main(["-H", "storage", "base", "add", "2026-12", url("20261201")], deps), 0, w.errText());
    const first = parse(w.stackText("storage")).config["project-vms:baseImages"][0].version;
    return { w, first };
}

test("base add turns the one baseImage into a list, adds the dated image pinned to its SHA512SUMS line, applies", async (t) => {
    const w = world(t);
    const { deps, fetched } = withSums(w);
    const { main } = await import("../cli/main");
    assert.equal(await main(["-H", "storage", "base", "add", "2026-12-01", url("20261201")], deps), 0, w.errText());
    assert.deepEqual(fetched, ["https://cloud.debian.org/images/cloud/forky/20261201/SHA512SUMS"]);
    const config = parse(w.stackText("storage")).config;
    assert.equal(config["project-vms:baseImage"], undefined);
    const list = config["project-vms:baseImages"];
    assert.equal(list.length, 2);
    assert.match(list[0].version, /^url-[0-9a-f]{8}$/, "the image the VMs already have keeps its version (its volume's name)");
    assert.deepEqual(list[1], { version: "2026-12-01", url: url("20261201"), sha512: SHA });
    assert.equal(w.applies.length, 1);
    assert.match(w.errText(), /base image 2026-12-01 is on storage .*new projects start on it/);
    assert.match(w.stackText("storage"), /version: "2026-12-01"/, "a version that YAML 1.1 reads as a date is written quoted");
});

test("base add refuses a moving 'latest' image, a bad sum, a version listed twice, an unlisted image", async (t) => {
    const w = world(t);
    const { deps } = withSums(w);
    const { main } = await import("../cli/main");
    const before = w.stackText("storage");
    const run = (...args: string[]) => main(["-H", "storage", "base", "add", ...args], deps);
    assert.equal(await run("x", "https://cloud.debian.org/images/cloud/forky/daily/latest/debian-14-genericcloud-amd64-daily.qcow2"), 2);
    assert.match(w.errText(), /names an image that changes under the same URL/);
    assert.equal(await run("x", url("20261201"), "--sha512", "abc"), 2);
    assert.match(w.errText(), /--sha512 must be the image's SHA-512/);
    assert.equal(await run("x", "https://mirror.example/debian-20261201.qcow2"), 2);
    assert.match(w.errText(), /is not a cloud\.debian\.org image: give its --sha512/);
    assert.equal(await run("x", url("2026120")), 2);
    assert.match(w.errText(), /could not read .*SHA512SUMS/);
    assert.equal(w.stackText("storage"), before);
    assert.equal(await run("2026-12", url("20261201")), 0, w.errText());
    assert.equal(await run("2026-12", url("20261215")), 2);
    assert.match(w.errText(), /base image version 2026-12 is already listed on storage/);
    assert.equal(movingImageProblem(url("20261201")), undefined);
});

test("base list shows each version with the VMs on it (Pulumi's state) and the projects pinned to it", async (t) => {
    const { w, first } = await twoVersions(t);
    w.systemDisks.storage = { myapp: `debian-testing-${first}.qcow2`, webapp: "debian-testing-2026-12-prepared-0123456789ab.qcow2" };
    w.out.length = 0;
    assert.equal(await w.run("-H", "storage", "base", "--json"), 0, w.errText());
    assert.deepEqual(
        JSON.parse(w.out.join("\n")).baseImages.map((b: any) => [b.version, b.newest, b.inUse, b.pinned]),
        [
            [first, false, ["myapp"], []],
            ["2026-12", true, ["webapp"], []],
        ],
        "a VM on a prepared layer is on its version",
    );
});

test("base move pins the project, asks first, applies; prune removes only what nothing uses", async (t) => {
    const w = world(t);
    const { deps } = withSums(w);
    const { main } = await import("../cli/main");
    assert.equal(await main(["-H", "storage", "base", "add", "2026-12", url("20261201")], deps), 0, w.errText());
    assert.equal(await main(["-H", "storage", "base", "add", "2027-01", url("20270101")], deps), 0, w.errText());
    const first = parse(w.stackText("storage")).config["project-vms:baseImages"][0].version;
    w.answers = [undefined];
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2027-01"), 2, "no terminal, no --yes");
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2027-01", "--yes"), 0, w.errText());
    assert.match(w.errText(), /keeps its project disk \(\/home\/dev\/project\), MAC and tailnet name/);
    const entry = parse(w.stackText("storage")).config["project-vms:projects"].find((p: any) => p.name === "myapp");
    assert.equal(entry.base, "2027-01");
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2031-01", "--yes"), 2);
    assert.match(w.errText(), /no base image version 2031-01 on storage/);

    // State: myapp now on 2027-01, webapp still on the first; 2026-12 is used by nothing.
    w.systemDisks.storage = { myapp: "debian-testing-2027-01-prepared-0123456789ab.qcow2", webapp: `debian-testing-${first}.qcow2` };
    w.host.volume("project-vms-base", "debian-testing-2026-12.qcow2", 1, 1);
    w.host.volume("project-vms-base", "debian-testing-2026-12-prepared-aaaaaaaaaaaa.qcow2", 1, 1);
    w.host.volume("project-vms-base", "debian-testing-2026-12-prepared-bbbbbbbbbbbb.qcow2", 1, 1);
    w.host.volume("project-vms-base", "debian-testing-2026-12-prepared-bbbbbbbbbbbb.done", 512, 512);
    w.host.volume("project-vms-base", "debian-testing-2027-01-prepared-0123456789ab.qcow2", 1, 1);
    w.stateUnreadable = true;
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 2, "state unknown: nothing pruned");
    w.stateUnreadable = false;
    const applies = w.applies.length;
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 0, w.errText());
    assert.deepEqual(
        parse(w.stackText("storage")).config["project-vms:baseImages"].map((b: any) => b.version),
        [first, "2027-01"],
    );
    assert.equal(w.applies.length, applies + 1);
    assert.equal(w.host.size("project-vms-base", "debian-testing-2026-12.qcow2"), undefined, "its volume deleted from the host");
    for (const v of ["debian-testing-2026-12.qcow2", "debian-testing-2026-12-prepared-bbbbbbbbbbbb.done"])
        assert.match(w.errText(), new RegExp(`project-vm: deleted ${v.replace(/\./g, "\\.")} from the host`), "each deletion said");
    assert.deepEqual(
        w.host.volumes("project-vms-base"),
        ["debian-testing-2027-01-prepared-0123456789ab.qcow2"],
        "and its prepared layers with their markers; a layer of a version in use stays",
    );
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 0);
    assert.match(w.errText(), /every base image version of storage is in use \(or the newest\); nothing to prune/);
});

test("base move of a disk made before its base was recorded: the change alone does not move it, so it is replaced explicitly", async (t) => {
    const { w, first } = await twoVersions(t);
    // myapp's disk is on the first version, and the state has no trigger for it (an older project-vms).
    w.systemDisks.storage = { myapp: `debian-testing-${first}.qcow2` };
    w.diskTriggers.storage = {};
    const before = w.applies.length;
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2026-12", "--yes"), 0, w.errText());
    assert.equal(w.applies.length, before + 2, "the move, then its system disk replaced");
    assert.deepEqual(w.applies[before].replace, []);
    assert.deepEqual(w.applies[before + 1].replace, [systemDiskUrn("storage", "myapp")]);
    assert.match(
        w.errText(),
        /myapp's system disk is still on debian-testing-url-[0-9a-f]{8}\.qcow2 \(made before its base was recorded in Pulumi's state\): it is replaced to move it/,
    );
    assert.equal(w.systemDisks.storage.myapp, "debian-testing-2026-12.qcow2");

    // Now recorded: a move back takes one apply; asking again for where it is does nothing.
    const next = w.applies.length;
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", first, "--yes"), 0, w.errText());
    assert.equal(w.applies.length, next + 1);
    assert.equal(w.systemDisks.storage.myapp, `debian-testing-${first}.qcow2`);
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", first, "--yes"), 0, w.errText());
    assert.equal(w.applies.length, next + 1, "pinned and on it: nothing to do");
});

test("base move again of a disk that a first apply after an upgrade left where it was: replaced", async (t) => {
    const { w, first } = await twoVersions(t);
    // The entry says 2026-12 (set by hand, applied once: the trigger recorded, the disk not moved).
    w.systemDisks.storage = { myapp: `debian-testing-${first}.qcow2` };
    w.diskTriggers.storage = { myapp: "base:2026-12" };
    const text = w.stackText("storage").replace(/(- name: myapp\n)/, '$1      base: "2026-12"\n');
    w.writeStack("storage", text);
    const before = w.applies.length;
    w.answers = [undefined];
    assert.equal(
        await w.run("-H", "storage", "base", "move", "myapp", "2026-12"),
        2,
        "a fresh system disk is asked for: no terminal, no --yes",
    );
    assert.match(w.errText(), /gets a fresh system disk on 2026-12/);
    assert.equal(w.applies.length, before, "nothing applied");
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2026-12", "--yes"), 0, w.errText());
    assert.match(w.errText(), /myapp is pinned to 2026-12/);
    assert.deepEqual(
        w.applies.slice(before).map((a) => a.replace),
        [[systemDiskUrn("storage", "myapp")]],
    );
    assert.equal(w.systemDisks.storage.myapp, "debian-testing-2026-12.qcow2");
});

test("a move whose apply fails says to run the move again (apply alone would not check where the disk is)", async (t) => {
    const w = world(t);
    const { deps } = withSums(w);
    const { main } = await import("../cli/main");
    assert.equal(await main(["-H", "storage", "base", "add", "2026-12", url("20261201")], deps), 0, w.errText());
    w.upCodes = [1];
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2026-12", "--yes"), 1);
    assert.match(w.errText(), /To finish the move once the cause is fixed, run 'project-vm -C \S+ -H storage base move myapp 2026-12'/);
});

test("a move applied while Pulumi's state cannot be read: done, with the way to check where the disk is", async (t) => {
    const { w } = await twoVersions(t);
    w.stateUnreadable = true;
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2026-12", "--yes"), 0, w.errText());
    assert.match(
        w.errText(),
        /^project-vm: warning: Pulumi's state could not be read \(pulumi stack export failed for stack storage: backend unreachable\): check with 'project-vm -C \S+ -H storage base' that myapp is on 2026-12$/m,
    );
});

test("systemDiskBases reads which base each system disk overlays from a stack export", () => {
    const urn = (n: string) => `urn:pulumi:storage::project-vms::project-vms:index:ProjectVm$libvirt:index/volume:Volume::${n}`;
    const exported = {
        deployment: {
            resources: [
                {
                    urn: urn("project-myapp-system-disk"),
                    type: "libvirt:index/volume:Volume",
                    inputs: { baseVolumeId: "/var/lib/project-vms/base/debian-testing-2026-11.qcow2" },
                },
                { urn: urn("project-myapp-project-disk"), type: "libvirt:index/volume:Volume", inputs: {} },
            ],
        },
    };
    assert.deepEqual([...systemDiskBases(exported)], [["myapp", "debian-testing-2026-11.qcow2"]]);
});

test("base add reads SHA512SUMS over https only: a redirect to http is refused, https redirects are followed", async () => {
    const { httpsText } = await import("../cli/commands/base");
    /** A stand-in fetch over a table of URL → [status, location or body]; records what was asked. */
    const site = (pages: Record<string, [number, string]>) => {
        const asked: string[] = [];
        const fetchImpl = (async (u: string, init?: RequestInit) => {
            asked.push(u);
            assert.equal(init?.redirect, "manual", "redirects are followed here, one by one, not by fetch");
            const [status, text] = pages[u] ?? [404, "not found"];
            return status >= 300 && status < 400
                ? new Response(null, { status, headers: { location: text } })
                : new Response(text, { status });
        }) as typeof fetch;
        return { asked, fetchImpl };
    };
    const sums = "https://cloud.debian.org/images/cloud/forky/20261201/SHA512SUMS";
    const down = site({ [sums]: [302, "http://mirror.example/SHA512SUMS"], "http://mirror.example/SHA512SUMS": [200, "forged"] });
    await assert.rejects(httpsText(sums, down.fetchImpl), /redirected to http:\/\/mirror\.example\/SHA512SUMS, which is not https/);
    assert.deepEqual(down.asked, [sums], "the http URL is never asked");

    const moved = site({
        [sums]: [301, "/moved/SHA512SUMS"],
        "https://cloud.debian.org/moved/SHA512SUMS": [302, "https://mirror.example/SHA512SUMS"],
        "https://mirror.example/SHA512SUMS": [200, "sums"],
    });
    assert.equal(await httpsText(sums, moved.fetchImpl), "sums", "relative and absolute https redirects are followed");

    const loop = site({ [sums]: [302, sums] });
    await assert.rejects(httpsText(sums, loop.fetchImpl), /more than 5 redirects/);
    await assert.rejects(httpsText("http://cloud.debian.org/x/SHA512SUMS", site({}).fetchImpl), {
        message: "http://cloud.debian.org/x/SHA512SUMS is not https",
    });
    await assert.rejects(httpsText(sums, site({ [sums]: [500, ""] }).fetchImpl), /HTTP 500/);
});

test("base list marks the newest version, where new projects start, and only it", async (t) => {
    const { w, first } = await twoVersions(t);
    w.out.length = 0;
    assert.equal(await w.run("-H", "storage", "base"), 0, w.errText());
    const versions = w.out.filter((l) => !l.startsWith(" "));
    assert.deepEqual(versions, [first, "2026-12 (newest: new projects start here)"]);
});

test("a moving image is named by its path: latest or current as a folder or a file name's start, daily images", () => {
    for (const moving of [
        "https://example.org/images/latest/debian.qcow2",
        "https://example.org/images/latest-amd64.qcow2",
        "https://example.org/images/current_amd64.qcow2",
        "https://example.org/images/Latest.qcow2",
        "https://example.org/images/current",
        "https://example.org/debian-14-genericcloud-amd64-daily.qcow2",
    ])
        assert.match(movingImageProblem(moving) ?? "", /changes under the same URL/, moving);
    for (const fixed of ["https://example.org/latestnews/debian-20261101.qcow2", "https://example.org/images/not-latest-20261101.qcow2"])
        assert.equal(movingImageProblem(fixed), undefined, fixed);
});

test("the SHA-512 is read from a SHA512SUMS line in text or binary mode (a '*' before the name), and only for that name", async () => {
    const image = url("20261201");
    const sums = (text: string) => sha512FromSums(image, async () => text);
    assert.equal(await sums(`${"AB".repeat(64)} *debian-14-genericcloud-amd64-20261201.qcow2\n`), "ab".repeat(64));
    assert.equal(await sums(`${SHA}  debian-14-genericcloud-amd64-20261201.qcow2\n`), SHA);
    await assert.rejects(sums(`${SHA}  x-debian-14-genericcloud-amd64-20261201.qcow2\n`), /lists no SHA-512 for debian-14-genericcloud/);
});
