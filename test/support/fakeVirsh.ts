// The one stand-in virsh of the tests, for the host scripts (on PATH) and the CLI (its `virsh`
// dependency runs the same script): libvirt's state as files under a state folder, every call
// recorded. fake-virsh.sh, beside this file, lists the files; FakeHost sets them up and reads them.
// Beside it a qemu-img whose compare says "identical" (compare-differs: "differ", compare-fails:
// an error), and an ssh that runs the command given here; both record their calls too.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunResult } from "../../cli/run";

/** The stand-in (a bash script beside this file). */
export const FAKE_VIRSH = path.join(__dirname, "fake-virsh.sh");

const QEMU_IMG = `#!/bin/bash
echo "qemu-img $*" >> "$FAKE_VIRSH/calls"
[ "$1" = compare ] || { echo "fake qemu-img: unexpected $1" >&2; exit 2; }
[ -e "$FAKE_VIRSH/compare-fails" ] && { echo "qemu-img: Could not open '\${@: -2:1}': Permission denied" >&2; exit 2; }
[ -e "$FAKE_VIRSH/compare-differs" ] && { echo "Content mismatch at offset 0!"; exit 1; }
echo "Images are identical."
`;

const SSH = `#!/bin/bash
while [ "$1" != -- ]; do shift; done
shift
echo "ssh $1" >> "$FAKE_VIRSH/calls"
shift
exec "$@"
`;

/** A domain's setup: its state and what its guest answers through the agent. */
export interface FakeDomain {
    /** "running", "shut off", …; undefined: the domain is not defined. */
    state?: string;
    /** Whether its guest agent answers (while it runs); default true. */
    agent?: boolean;
    /** Its DHCP lease's address (domifaddr --source lease). */
    ip?: string;
    /** The address its guest agent sees on eth0, beside lo's 127.0.0.1 (domifaddr --source agent). */
    agentIp?: string;
    /** What `cloud-init status --format json` prints in it. */
    cloudInit?: object;
    /** What `cloud-init status --long` prints in it. */
    cloudInitText?: string;
    /** The exit code of `cloud-init status`. */
    cloudInitCode?: number;
    /** Lines of /var/log/cloud-init-output.log. */
    log?: string[];
    /** What a failing `tail` of that log prints on stderr (undefined: it works). */
    logError?: string;
    /** /var/lib/cloud/data/instance-id in the guest. */
    instanceId?: string;
    /** What `tailscale status --json` prints in it. */
    tailscale?: string;
    /** Guest-ping calls that fail before the agent answers. */
    agentLate?: number;
    /** guest-exec calls that fail ("Guest agent not available for now": its channel resetting while the guest boots) before one starts. */
    execLate?: number;
    /** guest-exec-status polls that fail (the agent busy) before one answers. */
    agentBusy?: number;
    /** Whether a program run through the agent never ends (guest-exec-status never says exited). */
    execHangs?: boolean;
    /** Whether guest-exec answers without a pid (an agent that could not start the program). */
    execNoPid?: boolean;
    /** domstate polls an ACPI shutdown takes; "never": the guest ignores it; undefined: at once. */
    acpi?: number | "never";
    /** The exit code of seal.sh run in it (default 0). */
    sealCode?: number;
    /** What `domiflist` prints. */
    iflist?: string;
    /** What `domblklist --details` prints. */
    blkDetails?: string;
}

/** A fake host: its state folder and a bin folder to put first on PATH. */
export class FakeHost {
    readonly dir: string;
    readonly bin: string;

    /** @param domain the domain FAKE_DOMAIN names and state()/agent() set by default. */
    constructor(readonly domain = "project-myapp") {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-fakevirsh-"));
        this.bin = path.join(this.dir, "bin");
        for (const d of ["bin", "pools", "bitmaps", "domains", "new-domain", "fails", "errs-after", "slow"])
            fs.mkdirSync(path.join(this.dir, d));
        fs.copyFileSync(FAKE_VIRSH, path.join(this.bin, "virsh"));
        fs.chmodSync(path.join(this.bin, "virsh"), 0o755);
        fs.writeFileSync(path.join(this.bin, "qemu-img"), QEMU_IMG, { mode: 0o755 });
        fs.writeFileSync(path.join(this.bin, "ssh"), SSH, { mode: 0o755 });
    }

    /** The environment a script or the CLI runs with. */
    env(): Record<string, string> {
        return { PATH: `${this.bin}:${process.env.PATH}`, FAKE_VIRSH: this.dir, FAKE_DOMAIN: this.domain };
    }

    /** Makes `sleep` on PATH a no-op, so that a script's waits and timeouts cost no time. */
    noSleep(): this {
        fs.writeFileSync(path.join(this.bin, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        return this;
    }

    /** Runs the stand-in as the CLI runs virsh (its `virsh` dependency). */
    virsh = (args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> =>
        new Promise((resolve) => {
            execFile(
                path.join(this.bin, "virsh"),
                args,
                { encoding: "utf8", env: { ...process.env, ...this.env() }, timeout: opts.timeoutMs },
                (err, stdout, stderr) => {
                    resolve({ code: err ? (typeof err.code === "number" ? err.code : 124) : 0, stdout, stderr });
                },
            );
        });

    /** Turns a knob file (fake-virsh.sh lists them) on or off. */
    set(knob: string, on = true): void {
        const f = path.join(this.dir, knob);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        if (on) fs.writeFileSync(f, "");
        else fs.rmSync(f, { force: true });
    }

    /** Writes a file of the state folder. */
    write(file: string, content: string): void {
        fs.mkdirSync(path.dirname(path.join(this.dir, file)), { recursive: true });
        fs.writeFileSync(path.join(this.dir, file), content);
    }

    read(file: string): string {
        return fs.readFileSync(path.join(this.dir, file), "utf8");
    }

    /** Whether libvirt cannot be reached at all. */
    down(on = true): void {
        this.set("down", on);
    }

    /** Every call after the `n`th fails as a lost connection does. */
    failAfter(n: number): void {
        this.write("fail-after", `${n}\n`);
    }

    /** `verb` fails without effect, saying `message`; undefined: it works again. */
    fails(verb: string, message: string | undefined = `error: ${verb} failed`): void {
        this.knob("fails", verb, message);
    }

    /** `verb` takes effect, then reports `message` as an error (a freeze that froze, then timed out). */
    errsAfter(verb: string, message: string | undefined = `error: ${verb}: timed out`): void {
        this.knob("errs-after", verb, message);
    }

    /** `verb` takes `seconds` before (no effect yet) or after (taken effect) it does its work. */
    slow(verb: string, seconds = 30, when: "before" | "after" = "before"): void {
        this.knob("slow", verb, `${seconds} ${when}`);
    }

    /** Runs bash `script` once, right after the next `verb` call (given its arguments): another actor on the host. */
    after(verb: string, script: string): void {
        this.write(path.join("after", verb), script);
    }

    /** Whether a slow `verb` has begun its wait. */
    waiting(verb: string): boolean {
        return fs.existsSync(path.join(this.dir, `in-${verb}`));
    }

    private knob(kind: string, verb: string, content: string | undefined): void {
        const f = path.join(this.dir, kind, verb);
        if (content === undefined) fs.rmSync(f, { force: true });
        else fs.writeFileSync(f, `${content}\n`);
    }

    /** Defines (or changes) domain `name`; fields left out are left as they were. */
    define(name: string, d: FakeDomain): void {
        this.guest(path.join("domains", name), { agent: true, ...d });
    }

    /** What a domain made by `virsh create` (the base builder) starts with. */
    newDomains(d: FakeDomain): void {
        this.guest("new-domain", { agent: true, ...d });
    }

    private guest(dir: string, d: FakeDomain): void {
        const put = (file: string, v: string | undefined) => v === undefined || this.write(path.join(dir, file), v);
        put("state", d.state === undefined ? undefined : `${d.state}\n`);
        if (d.agent !== undefined) this.set(path.join(dir, "agent"), d.agent);
        put("ip", d.ip);
        put("agent-ip", d.agentIp);
        put("cloud-init.json", d.cloudInit && JSON.stringify(d.cloudInit));
        put("cloud-init.txt", d.cloudInitText);
        put("cloud-init.code", d.cloudInitCode?.toString());
        put("log", d.log && d.log.map((l) => `${l}\n`).join(""));
        put("log-error", d.logError);
        put("instance-id", d.instanceId);
        put("tailscale.json", d.tailscale);
        put("agent-late", d.agentLate?.toString());
        put("exec-late", d.execLate?.toString());
        put("agent-busy", d.agentBusy?.toString());
        if (d.execHangs !== undefined) this.set(path.join(dir, "exec-hangs"), d.execHangs);
        if (d.execNoPid !== undefined) this.set(path.join(dir, "exec-no-pid"), d.execNoPid);
        put("acpi", d.acpi?.toString());
        put("seal.code", d.sealCode?.toString());
        put("iflist", d.iflist);
        put("blk-details", d.blkDetails);
    }

    /** Sets the state of `domain` (the host's own by default). */
    state(s: string, domain = this.domain): void {
        this.define(domain, { state: s, agent: fs.existsSync(path.join(this.dir, "domains", domain, "agent")) });
    }

    /** The state of `domain`; undefined when it is not defined. */
    stateOf(domain = this.domain): string | undefined {
        const f = path.join(this.dir, "domains", domain, "state");
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : undefined;
    }

    /** Whether the guest agent of `domain` answers (while it runs). */
    agent(on = true, domain = this.domain): void {
        this.set(path.join("domains", domain, "agent"), on);
    }

    /** A file of domain `name`'s folder (xml: what create got; sealed: seal.sh ran in it). */
    domainFile(name: string, file: string): string | undefined {
        const f = path.join(this.dir, "domains", name, file);
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined;
    }

    /** The domains defined, by name. */
    domains(): string[] {
        return fs
            .readdirSync(path.join(this.dir, "domains"))
            .filter((d) => this.stateOf(d) !== undefined)
            .sort();
    }

    /** Defines pool `name` (running unless `state` says otherwise), its target folder `dir`. */
    pool(name: string, dir = `/fake/${name}`, state = "running"): void {
        fs.mkdirSync(path.join(this.dir, "pools", name), { recursive: true });
        fs.writeFileSync(path.join(this.dir, `pooldir-${name}`), `${dir}\n`);
        fs.writeFileSync(path.join(this.dir, "pools", `${name}.state`), `${state}\n`);
    }

    /** Whether pool `name` is defined. */
    poolDefined(name: string): boolean {
        return fs.existsSync(path.join(this.dir, "pools", `${name}.state`));
    }

    volume(pool: string, name: string, capacity: number, allocation = 0, backing = "-", compat = "v3"): void {
        fs.mkdirSync(path.join(this.dir, "pools", pool), { recursive: true });
        fs.writeFileSync(path.join(this.dir, "pools", pool, name), `${capacity} ${allocation} ${backing} ${compat}\n`);
    }

    /** A volume's capacity and allocation in bytes; undefined when there is no such volume. */
    size(pool: string, name: string): { capacity: number; allocation: number } | undefined {
        const f = path.join(this.dir, "pools", pool, name);
        if (!fs.existsSync(f)) return undefined;
        const [capacity, allocation] = fs.readFileSync(f, "utf8").split(" ").map(Number);
        return { capacity, allocation };
    }

    /** Writes `content` into a volume, as vol-upload does (making the volume when there is none). */
    upload(pool: string, name: string, content: string): void {
        if (!this.size(pool, name)) this.volume(pool, name, Buffer.byteLength(content));
        this.write(path.join("content", pool, name), content);
    }

    /** What vol-upload wrote into a volume (undefined: nothing). */
    content(pool: string, name: string): string | undefined {
        const f = path.join(this.dir, "content", pool, name);
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined;
    }

    /** Sets when a volume last changed (its stand-in file's mtime, which vol-dumpxml reports). */
    changed(pool: string, name: string, time: Date): void {
        fs.utimesSync(path.join(this.dir, "pools", pool, name), time, time);
    }

    volumes(pool: string): string[] {
        const d = path.join(this.dir, "pools", pool);
        return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
    }

    bitmap(name: string): void {
        fs.writeFileSync(path.join(this.dir, "bitmaps", name), "");
    }

    bitmaps(): string[] {
        return fs.readdirSync(path.join(this.dir, "bitmaps")).sort();
    }

    /** The checkpoints libvirt has metadata of. */
    metadata(): string[] {
        return fs
            .readdirSync(this.dir)
            .filter((f) => f.startsWith("meta-"))
            .map((f) => f.slice("meta-".length))
            .sort();
    }

    /** The virsh calls made, as lines of arguments. */
    calls(): string[] {
        const f = path.join(this.dir, "calls");
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean) : [];
    }

    /** Forgets the calls made so far. */
    clearCalls(): void {
        fs.rmSync(path.join(this.dir, "calls"), { force: true });
    }

    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
