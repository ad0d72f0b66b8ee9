// The program applied for real: the engine, the Node.js language host and the libvirt, command and
// tailscale plugins built from source by engine/build.sh, against the real libvirtd at
// qemu:///system, on the program's own NAT network, with prepared layers (the default path), a
// bootable Debian testing image given by local path with its sha512, and Tailscale on against a
// fake Tailscale API on 127.0.0.1 (the guests carry a stand-in `tailscale`; the provisioning is the
// program's own). Each step asserts on the host (virsh, files), in the guests (guest agent), on the
// fake API and on Pulumi's own output and state, and prints a timing line. The steps run in order
// on one stack: each starts from where the one before left it.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { projectMac } from "../../components/names";
import { baseImage, BaseImage } from "../../e2e/image";
import { pickAccelerator } from "../../e2e/vm";
import { buildEngine, Engine } from "../support/engine";
import { EngineStack, plannedSteps } from "../support/engineStack";
import { FakeTailscaleApi } from "../support/fakeTailscaleApi";
import { guestOk, guestSh } from "../support/guestAgent";
import { REPO } from "../support/schemas";
import { libvirtReachable, requireTool } from "../support/tools";

const URI = "qemu:///system";
const MINUTE = 60_000;
const id = randomBytes(2).toString("hex");
const storageDir = `/var/lib/pvms-engine-${id}`;
const network = { name: `pvms-e${id}`, cidr: `10.${200 + (parseInt(id, 16) % 50)}.${parseInt(id.slice(2), 16)}.0/24` };
const A = `alpha-${id}`;
const B = `beta-${id}`;
const host = (name: string) => `project-${name}`;
const API_KEY = `tskey-api-engine${id}`;

let engine: Engine | undefined;
let stack: EngineStack | undefined;
let api: FakeTailscaleApi | undefined;
let image: BaseImage | undefined;
let skipped: string | undefined;
/** Every project name the stack has had: their domains are read by the fake API and cleaned up. */
const everProjects = new Set<string>();

const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", URI, ...args], { encoding: "utf8" }).trim();
const quiet = (...args: string[]) => spawnSync("virsh", ["-q", "-c", URI, ...args], { stdio: "ignore" });
const domState = (d: string) => spawnSync("virsh", ["-q", "-c", URI, "domstate", d], { encoding: "utf8" }).stdout.trim();
const domUuid = (d: string) => virsh("domuuid", d);
const seconds = (s: number) => s.toFixed(1);
const sha512 = (file: string) => createHash("sha512").update(fs.readFileSync(file)).digest("hex");

function timing(step: string, s: number): void {
    console.log(`timing: ${step} ${seconds(s)} s`);
}

/** The stack's config: two small projects without Nix and Claude Code (this machine reaches Debian's archive only). */
interface StackShape {
    projects: Record<string, unknown>[];
    baseImages: { version: string; url: string; sha512: string }[];
}
let shape: StackShape;

function project(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { name, memory: 1024, cpus: 1, disk: "2G", features: { nix: false, claudeCode: false }, ...extra };
}

function writeConfig(s: StackShape = shape): void {
    shape = s;
    for (const p of s.projects) everProjects.add(String(p.name));
    stack!.setConfig({
        "project-vms:libvirtUri": URI,
        "project-vms:storageDir": storageDir,
        "project-vms:sshPublicKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGzqbU7cUw1M1pTZ2fQ1iBo2dWSIHv0nQx5WXdj0V6sM engine-test"],
        "project-vms:baseImages": s.baseImages,
        "project-vms:network": network,
        "project-vms:tailscale": { enabled: true, tailnet: "standin.ts.net", tags: ["tag:project-vm"] },
        "project-vms:aptCheckValidUntil": false,
        "project-vms:shutdownTimeout": 90,
        "project-vms:readyTimeout": 1800,
        "project-vms:projects": s.projects,
        "tailscale:baseUrl": api!.url,
    });
}

/** Reads `cloud-init status` in a guest. */
async function cloudInitStatus(name: string): Promise<string> {
    return (await guestSh(URI, host(name), "cloud-init status --format json 2>/dev/null || cloud-init status")).stdout;
}

before(async () => {
    if (!libvirtReachable(URI, (r) => (skipped = r))) return;
    for (const [tool, pkg] of [["mmdebstrap", "mmdebstrap"], ["qemu-img", "qemu-utils"], ["mkisofs", "genisoimage"], ["jq", "jq"],
        ["grub-mkimage", "grub-pc-bin"], ["dnsmasq", "dnsmasq-base"]] as const) {
        if (!requireTool(tool, pkg, (r) => (skipped = r))) return;
    }
    const bin = buildEngine((r) => (skipped = r), true);
    if (!bin) return;
    engine = new Engine(bin);
    let started = Date.now();
    engine.installPlugins();
    timing("plugins installed into PULUMI_HOME", (Date.now() - started) / 1000);
    started = Date.now();
    image = baseImage((line) => console.log(`engine image: ${line}`));
    timing(`test image (${image.built ? "built" : "cached"})`, (Date.now() - started) / 1000);
    const accel = pickAccelerator(image);
    console.log(`engine: accelerator ${accel}`);
    api = new FakeTailscaleApi(API_KEY, async () => {
        const running = new Set(spawnSync("virsh", ["-q", "-c", URI, "list", "--name"], { encoding: "utf8" }).stdout.split("\n"));
        return [...everProjects].map(host).filter((d) => running.has(d)).map((domain) => ({ uri: URI, domain }));
    });
    await api.start();
    // Without KVM the provider must make qemu (TCG) domains.
    stack = new EngineStack(engine, `engine${id}`, accel === "kvm" ? {} : { TERRAFORM_LIBVIRT_TEST_DOMAIN_TYPE: "qemu" });
    stack.init({});
    stack.setSecret("tailscale:apiKey", API_KEY);
    writeConfig({ projects: [project(A), project(B)], baseImages: [{ version: "v1", url: image.disk, sha512: sha512(image.disk) }] });
});

after(async () => {
    if (stack && !process.env.PROJECT_VMS_E2E_KEEP) {
        const r = await stack.run(["destroy", "--yes", "--skip-preview"]);
        if (r.code !== 0) console.log(`engine: cleanup destroy failed: ${(r.stdout + r.stderr).slice(-2000)}`);
        for (const name of everProjects) {
            quiet("destroy", host(name));
            quiet("undefine", host(name), "--nvram");
            quiet("pool-destroy", host(name));
            quiet("pool-undefine", host(name));
        }
        for (const p of ["project-vms-base"]) { quiet("pool-destroy", p); quiet("pool-undefine", p); }
        quiet("net-destroy", network.name);
        quiet("net-undefine", network.name);
        fs.rmSync(storageDir, { recursive: true, force: true });
    }
    if (stack) console.log(`engine: the Pulumi log is ${stack.logFile}`);
    api?.close();
    if (!process.env.PROJECT_VMS_E2E_KEEP) engine?.cleanup();
});

function ready(t: { skip: (r?: string) => void }): boolean {
    if (!stack) { t.skip(skipped); return false; }
    return true;
}

test("m. the shipped stacks, pointed at the local daemon, preview cleanly", { timeout: 10 * MINUTE }, async (t) => {
    if (!ready(t)) return;
    for (const name of ["storage", "raider"]) {
        const shipped = new EngineStack(engine!, name);
        const text = fs.readFileSync(path.join(REPO, `Pulumi.${name}.yaml`), "utf8")
            .replace(/^(  project-vms:libvirtUri:).*$/m, `$1 ${URI}`)
            .replace(/^(  project-vms:storageDir:).*$/m, `$1 ${storageDir}-${name}`);
        engine!.pulumi(shipped.dir, "stack", "init", name);
        const salt = fs.readFileSync(shipped.stackFile, "utf8");
        fs.writeFileSync(shipped.stackFile, `${salt.trimEnd()}\n${text.replace(/^config:\n/m, "")}`);
        assert.match(fs.readFileSync(shipped.stackFile, "utf8"), /^config:$/m);
        shipped.setSecret("tailscale:apiKey", API_KEY);
        const r = await shipped.run(["preview", "--json"]);
        assert.equal(r.code, 0, `preview of the shipped ${name} stack: ${(r.stdout + r.stderr).slice(-3000)}`);
        const steps = plannedSteps(r.stdout);
        const domains = [...steps].filter(([urn, op]) => urn.includes("libvirt:index/domain:Domain") && op === "create");
        const projects = parse(text).config["project-vms:projects"].length;
        assert.equal(domains.length, projects, `a domain per project of ${name}`);
        timing(`preview of the shipped ${name} stack`, r.seconds);
    }
});

test("a. preview, then up of a two-project stack from nothing: both guests provisioned, outputs right, secrets only encrypted", { timeout: 60 * MINUTE }, async (t) => {
    if (!ready(t)) return;
    const preview = await stack!.ok(["preview", "--json"]);
    const creates = [...plannedSteps(preview.stdout).values()].filter((op) => op === "create").length;
    assert.ok(creates > 20, `preview plans the whole stack (${creates} creates)`);
    timing("preview from nothing", preview.seconds);

    const up = await stack!.up();
    timing("up from nothing (layer built, two VMs provisioned)", up.seconds);

    // Both guests finished cloud-init when up returned.
    for (const name of [A, B]) {
        assert.equal(domState(host(name)), "running");
        const status = await cloudInitStatus(name);
        assert.match(status, /"status": "done"|status: done/, `${name}: cloud-init done when up returned: ${status}`);
        assert.equal((await guestOk(URI, host(name), "hostname")).trim(), host(name));
        assert.match(await guestOk(URI, host(name), "findmnt -no SOURCE /home/dev/project"), /\/dev\/vdb/);
        assert.match(await guestOk(URI, host(name), "id dev"), /\(docker\)/);
        assert.equal((await guestOk(URI, host(name), "systemctl is-active docker")).trim(), "active");
        // On a prepared layer: no apt at first boot, and a machine ID of its own.
        assert.equal((await guestSh(URI, host(name), "test -e /var/lib/apt/lists/lock || ls /var/lib/apt/lists/*_Packages* 2>/dev/null | head -n 1")).stdout.trim(), "");
    }
    const ids = await Promise.all([A, B].map((n) => guestOk(URI, host(n), "cat /etc/machine-id")));
    assert.notEqual(ids[0].trim(), ids[1].trim(), "each VM has its own machine ID");

    // Outputs.
    const out = stack!.outputs().projects;
    assert.deepEqual(Object.keys(out).sort(), [A, B].sort());
    for (const name of [A, B]) {
        const o = out[name];
        assert.equal(o.hostname, host(name));
        assert.equal(o.domainName, host(name));
        assert.equal(o.fqdn, `${host(name)}.standin.ts.net`);
        assert.equal(o.ssh, `ssh dev@${host(name)}.standin.ts.net`);
        assert.ok(o.ip.startsWith(network.cidr.split(".").slice(0, 3).join(".") + "."), `${name}'s address ${o.ip} is on ${network.cidr}`);
        assert.equal(o.disks.project, `${storageDir}/${name}/project.qcow2`);
        assert.ok(fs.existsSync(o.disks.project) && fs.existsSync(o.disks.system));
    }

    // The fake API: one single-use key per VM, each used by exactly that VM's node.
    for (const name of [A, B]) {
        const devices = api!.devicesOf(host(name));
        assert.equal(devices.length, 1, `${name} joined the tailnet once`);
        const key = api!.keys.get(devices[0].keyId)!;
        assert.equal(key.reusable, false);
        assert.deepEqual(key.usedBy, [devices[0].nodeId]);
    }
    assert.deepEqual(api!.refused, []);

    // The state holds the auth keys and user-data only encrypted.
    const raw = stack!.rawState();
    for (const k of api!.keys.values()) assert.ok(!raw.includes(k.key), "an auth key is in the state in the clear");
    assert.ok(!raw.includes("ssh_authorized_keys"), "user-data is in the state in the clear");
    assert.ok(!raw.includes(API_KEY), "the API key is in the state in the clear");
});

test("b. a second up changes nothing; preview --expect-no-changes passes, also after refresh", { timeout: 20 * MINUTE }, async (t) => {
    if (!ready(t)) return;
    const uuids = [A, B].map(domUuid);
    const again = await stack!.up("--json");
    const changes = JSON.parse(again.stdout).summary?.resourceChanges ?? {};
    assert.deepEqual(Object.keys(changes).filter((k) => k !== "same"), [], `a second up changed ${JSON.stringify(changes)}`);
    timing("no-op up", again.seconds);
    const preview = await stack!.ok(["preview", "--expect-no-changes"]);
    timing("preview --expect-no-changes", preview.seconds);
    const refresh = await stack!.ok(["refresh", "--yes", "--skip-preview"]);
    timing("refresh", refresh.seconds);
    await stack!.ok(["preview", "--expect-no-changes"]);
    assert.deepEqual([A, B].map(domUuid), uuids, "no domain was replaced");
});

export { projectMac, writeConfig, project };
