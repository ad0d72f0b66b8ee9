// The world of the engine suite (test/engine/program.engine.ts): one stack of the real program,
// applied by the engine and plugins built from source, against the real libvirtd at qemu:///system
// on its own NAT network, with a fake Tailscale API on 127.0.0.1; the helpers its steps read the
// host, the guests, the fake API and Pulumi's state with.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { BACKUP_POOL } from "../../components/backup";
import { baseImage, BaseImage } from "../../e2e/image";
import { pickAccelerator } from "../../e2e/vm";
import { buildEngine, Engine } from "./engine";
import { claimEngineHost, sweepEngineLeftovers } from "./engineHost";
import { EngineStack, plannedSteps } from "./engineStack";
import { FakeTailscaleApi } from "./fakeTailscaleApi";
import { guestOk, guestSh } from "./guestAgent";
import { REPO } from "./schemas";
import { libvirtReachable, requireTool } from "./tools";

export const URI = "qemu:///system";
export const MINUTE = 60_000;
/** How long a step waits for a guest to boot (its agent to answer): TCG on a loaded host is slow. */
export const BOOT_WAIT = 15 * MINUTE;
export const id = randomBytes(2).toString("hex");
export const storageDir = `/var/lib/pvms-engine-${id}`;
export const network = { name: `pvms-e${id}`, cidr: `10.${200 + (parseInt(id, 16) % 50)}.${parseInt(id.slice(2), 16)}.0/24` };
export const A = `alpha-${id}`;
export const B = `beta-${id}`;
export const host = (name: string) => `project-${name}`;
export const API_KEY = `tskey-api-engine${id}`;

/** The run's shared state: each step starts from where the one before left it. */
export const w: {
    engine?: Engine;
    stack?: EngineStack;
    api?: FakeTailscaleApi;
    image?: BaseImage;
    /** Why the run is skipped (no libvirt, a tool missing), if it is. */
    skipped?: string;
    /** Releases the host-wide engine lock. */
    release?: () => void;
    /** The stack's config as last written. */
    shape: StackShape;
    /** The developer's key pair of the test stack (its public half in sshPublicKeys). */
    sshKey: { public: string; private: string };
} = { shape: { projects: [], baseImages: [] }, sshKey: { public: "", private: "" } };
/** Every project name the stack has had: their domains are read by the fake API and cleaned up. */
export const everProjects = new Set<string>();

export const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", URI, ...args], { encoding: "utf8" }).trim();
export const quiet = (...args: string[]) => spawnSync("virsh", ["-q", "-c", URI, ...args], { stdio: "ignore" });
export const domState = (d: string) => spawnSync("virsh", ["-q", "-c", URI, "domstate", d], { encoding: "utf8" }).stdout.trim();
export const domUuid = (d: string) => virsh("domuuid", d);
export const seconds = (s: number) => s.toFixed(1);
export const sha512 = (file: string) => createHash("sha512").update(fs.readFileSync(file)).digest("hex");

/** Prints a timing line of a step. */
export function timing(step: string, s: number): void {
    console.log(`timing: ${step} ${seconds(s)} s`);
}

/** The stack's config: two small projects without Nix and Claude Code (this machine reaches Debian's archive only). */
export interface StackShape {
    projects: Record<string, unknown>[];
    baseImages: { version: string; url: string; sha512: string }[];
}

/** A project entry of the test stack. */
export function project(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { name, memory: 1024, cpus: 1, disk: "2G", features: { nix: false, claudeCode: false }, ...extra };
}

/** Makes the developer's key pair in `dir`. */
export function makeKey(dir: string): void {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "engine-test", "-f", path.join(dir, "id_ed25519")]);
    w.sshKey = {
        public: fs.readFileSync(path.join(dir, "id_ed25519.pub"), "utf8").trim(),
        private: fs.readFileSync(path.join(dir, "id_ed25519"), "utf8"),
    };
}

/** Writes the stack's config from its shape (and remembers the projects for cleanup). */
export function writeConfig(s: StackShape = w.shape): void {
    w.shape = s;
    for (const p of s.projects) everProjects.add(String(p.name));
    w.stack!.setConfig({
        "project-vms:libvirtUri": URI,
        "project-vms:storageDir": storageDir,
        "project-vms:sshPublicKeys": [w.sshKey.public],
        "project-vms:baseImages": s.baseImages,
        "project-vms:network": network,
        "project-vms:tailscale": { enabled: true, tailnet: "standin.ts.net", tags: ["tag:project-vm"] },
        "project-vms:aptCheckValidUntil": false,
        "project-vms:shutdownTimeout": 90,
        "project-vms:readyTimeout": 1800,
        // Step k's backups, all of one day: the newest 10 kept, so that each stays for the story.
        "project-vms:backups": { keepLast: 10 },
        "project-vms:projects": s.projects,
        "tailscale:baseUrl": w.api!.url,
    });
}

/** Reads `cloud-init status` in a guest. */
export async function cloudInitStatus(name: string): Promise<string> {
    return (await guestSh(URI, host(name), "cloud-init status --format json 2>/dev/null || cloud-init status")).stdout;
}

/** Sets the run up: the host lock, leftovers swept, the engine, the image, the fake API, the stack. */
export async function setUp(): Promise<void> {
    if (!libvirtReachable(URI, (r) => (w.skipped = r))) return;
    for (const [tool, pkg] of [
        ["mmdebstrap", "mmdebstrap"],
        ["qemu-img", "qemu-utils"],
        ["mkisofs", "genisoimage"],
        ["jq", "jq"],
        ["grub-mkimage", "grub-pc-bin"],
        ["dnsmasq", "dnsmasq-base"],
        ["ssh-keygen", "openssh-client"],
    ] as const) {
        if (!requireTool(tool, pkg, (r) => (w.skipped = r))) return;
    }
    // One engine run at a time per host (the base pool's name is host-wide); what a killed run left
    // behind would make this one fail (a base pool on its folder), so it goes first.
    w.release = await claimEngineHost((line) => console.log(line));
    for (const leftover of sweepEngineLeftovers(URI)) console.log(`engine: removed the leftover ${leftover} of an earlier run`);
    // The provider asks libvirt for its capabilities several times per domain: a host where each
    // call re-probes QEMU (8 s here once, /dev/kvm without udev's mode) pays minutes per VM.
    for (let i = 1; i <= 3; i++) {
        const started = Date.now();
        virsh("capabilities");
        timing(`libvirt capabilities call ${i}`, (Date.now() - started) / 1000);
    }
    const bin = buildEngine((r) => (w.skipped = r), true);
    if (!bin) return;
    w.engine = new Engine(bin);
    let started = Date.now();
    w.engine.installPlugins();
    timing("plugins installed into PULUMI_HOME", (Date.now() - started) / 1000);
    started = Date.now();
    w.image = baseImage((line) => console.log(`engine image: ${line}`), "packaged");
    timing(`test image (${w.image.built ? "built" : "cached"})`, (Date.now() - started) / 1000);
    const accel = pickAccelerator(w.image);
    console.log(`engine: accelerator ${accel}`);
    w.api = new FakeTailscaleApi(API_KEY, async () => {
        const running = new Set(spawnSync("virsh", ["-q", "-c", URI, "list", "--name"], { encoding: "utf8" }).stdout.split("\n"));
        return [...everProjects]
            .map(host)
            .filter((d) => running.has(d))
            .map((domain) => ({ uri: URI, domain }));
    });
    await w.api.start();
    // Without KVM the provider must make qemu (TCG) domains.
    w.stack = new EngineStack(w.engine, `engine${id}`, accel === "kvm" ? {} : { TERRAFORM_LIBVIRT_TEST_DOMAIN_TYPE: "qemu" });
    makeKey(w.engine.home);
    w.stack.init({});
    w.stack.setSecret("tailscale:apiKey", API_KEY);
    // A boots alone in most steps: two vCPUs make its boots shorter under emulation.
    writeConfig({
        projects: [project(A, { cpus: 2 }), project(B)],
        baseImages: [{ version: "v1", url: w.image.disk, sha512: sha512(w.image.disk) }],
    });
}

/** Destroys the stack and removes what the run made (unless PROJECT_VMS_E2E_KEEP), releases the lock. */
export async function tearDown(): Promise<void> {
    if (w.stack && !process.env.PROJECT_VMS_E2E_KEEP) {
        const r = await w.stack.run(["destroy", "--yes", "--skip-preview"]);
        if (r.code !== 0) console.log(`engine: cleanup destroy failed: ${(r.stdout + r.stderr).slice(-2000)}`);
        for (const name of everProjects) {
            quiet("destroy", host(name));
            quiet("undefine", host(name), "--nvram");
            quiet("pool-destroy", host(name));
            quiet("pool-undefine", host(name));
        }
        for (const p of ["project-vms-base", BACKUP_POOL, `pvms-engine-backups-${id}`]) {
            quiet("pool-destroy", p);
            quiet("pool-undefine", p);
        }
        quiet("net-destroy", network.name);
        quiet("net-undefine", network.name);
        fs.rmSync(storageDir, { recursive: true, force: true });
    }
    if (w.stack) console.log(`engine: the Pulumi log is ${w.stack.logFile}`);
    w.api?.close();
    if (!process.env.PROJECT_VMS_E2E_KEEP) w.engine?.cleanup();
    w.release?.();
}

/** Whether the run is set up; skips the step saying why if not. */
export function ready(t: { skip: (r?: string) => void }): boolean {
    if (!w.stack) {
        t.skip(w.skipped);
        return false;
    }
    return true;
}

/** The plan of a preview of the current config: URN → op. */
export async function plan(): Promise<Map<string, string>> {
    return plannedSteps((await w.stack!.ok(["preview", "--json"])).stdout);
}

/** The ops planned for a project's resources (its URNs name its hostname), other than "same". */
export function changesOf(steps: Map<string, string>, name: string): string[] {
    return [...steps].filter(([urn, op]) => urn.includes(host(name)) && op !== "same").map(([urn, op]) => `${op} ${urn.split("::").pop()}`);
}

export const MARKER = `engine-marker-${id}`;
export const markerOf = (name: string) => guestOk(URI, host(name), "cat /home/dev/project/marker").then((m) => m.trim());

/** Entries of the current config, with `name`'s changed by `change`. */
export function withProject(name: string, change: Record<string, unknown> | undefined): StackShape {
    const projects = w.shape.projects.flatMap((p) => (p.name !== name ? [p] : change === undefined ? [] : [{ ...p, ...change }]));
    return { ...w.shape, projects };
}

/** What the state says of the stack's resources (the stack's own outputs and timestamps aside). */
export function resourcesState(): string {
    return JSON.stringify(
        w
            .stack!.resources(true)
            .filter((r) => r.type !== "pulumi:pulumi:Stack")
            .map((r) => ({ urn: r.urn, id: r.id, inputs: r.inputs, outputs: r.outputs }))
            .sort((x, y) => x.urn.localeCompare(y.urn)),
    );
}

/** A volume file's virtual size. */
export function volumeBytes(file: string): number {
    return JSON.parse(execFileSync("qemu-img", ["info", "-U", "--output=json", file], { encoding: "utf8" }))["virtual-size"];
}

/** Retries `check` every 3 s until it holds or `ms` pass. */
export async function waitFor(check: () => Promise<boolean>, what: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
        try {
            if (await check()) return;
        } catch {
            // not yet (the agent may not answer while the guest boots)
        }
        if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
        await new Promise((r) => setTimeout(r, 3000));
    }
}

/** What a run of `project-vm` gave: its exit code, its output as a terminal shows it, and each stream. */
export interface ProjectVmRun {
    code: number;
    out: string;
    stdout: string;
    stderr: string;
}

/** Runs the built `project-vm` on this stack, with the engine on its PATH; resolves to its exit code and output. */
export function projectVm(...args: string[]): Promise<ProjectVmRun> {
    return new Promise((resolve) => {
        const child = spawn(
            process.execPath,
            [path.join(REPO, "dist", "cli", "main.js"), "-C", w.stack!.dir, "-H", w.stack!.name, ...args],
            {
                env: {
                    ...w.stack!.engine.env,
                    ...w.stack!.extraEnv,
                    HOME: process.env.HOME,
                    PROJECT_VM_LOCK_WAIT: "60",
                    PROJECT_VMS_BACKUP_POOL: `pvms-engine-backups-${id}`,
                },
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
        let out = "";
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => {
            out += d;
            stdout += d;
        });
        child.stderr.on("data", (d) => {
            out += d;
            stderr += d;
        });
        child.on("close", (code) => {
            fs.appendFileSync(w.stack!.logFile, `\n$ project-vm ${args.join(" ")}\n${out}`);
            resolve({ code: code ?? -1, out, stdout, stderr });
        });
    });
}
