// One QEMU guest laid out like a ProjectVm's domain: vda system overlay, vdb project disk, the
// cloud-init ISO on IDE, a virtio NIC with the project's MAC on user-mode networking (SSH
// forwarded on 127.0.0.1 only), the guest agent channel and a serial console logged to a file.
import { ChildProcess, execFileSync, spawn, spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { CloudInitFiles } from "../components/cloudInit";
import { BaseImage } from "./image";

/** The NoCloud ISO of a render, built in `dir` the way the provider builds it (mkisofs, label cidata). */
export function renderedSeedIso(dir: string, files: CloudInitFiles, name: string): string {
    const d = path.join(dir, `${name}.d`);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, "user-data"), files.userData, { mode: 0o600 });
    fs.writeFileSync(path.join(d, "meta-data"), files.metaData);
    fs.writeFileSync(path.join(d, "network-config"), files.networkConfig);
    const iso = path.join(dir, `${name}.iso`);
    execFileSync("genisoimage", [
        "-quiet",
        "-output",
        iso,
        "-volid",
        "cidata",
        "-joliet",
        "-rock",
        path.join(d, "user-data"),
        path.join(d, "meta-data"),
        path.join(d, "network-config"),
    ]);
    return iso;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as net.AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

/** KVM when a guest can really run under it here, else TCG (QEMU's emulator). */
export function pickAccelerator(base: BaseImage): "kvm" | "tcg" {
    if (process.env.PROJECT_VMS_E2E_ACCEL === "kvm" || process.env.PROJECT_VMS_E2E_ACCEL === "tcg")
        return process.env.PROJECT_VMS_E2E_ACCEL;
    if (!fs.existsSync("/dev/kvm")) return "tcg";
    // Some hosts expose /dev/kvm but abort on the first vCPU run (e.g. "failed to set MSR"):
    // boot the kernel for a few seconds and see whether QEMU survives.
    const r = spawnSync(
        "qemu-system-x86_64",
        [
            "-accel",
            "kvm",
            "-cpu",
            "host",
            "-m",
            "256",
            "-display",
            "none",
            "-nodefaults",
            "-no-reboot",
            "-kernel",
            base.kernel,
            "-append",
            "console=ttyS0 panic=-1",
        ],
        { timeout: 6000, encoding: "utf8" },
    );
    return r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT" ? "kvm" : "tcg";
}

export interface VmSpec {
    /** Working folder: logs, sockets, keys. */
    dir: string;
    base: BaseImage;
    systemDisk: string;
    projectDisk: string;
    seedIso: string;
    mac: string;
    memoryMiB: number;
    cpus: number;
    accel: "kvm" | "tcg";
    /** Private key that logs in as dev. */
    sshKey: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running (or stopped) guest. */
export class Vm {
    private proc?: ChildProcess;
    private exited = false;
    readonly serialLog: string;
    readonly qmpSocket: string;
    readonly qgaSocket: string;
    sshPort = 0;

    constructor(readonly spec: VmSpec) {
        this.serialLog = path.join(spec.dir, "serial.log");
        this.qmpSocket = path.join(spec.dir, "qmp.sock");
        this.qgaSocket = path.join(spec.dir, "qga.sock");
    }

    /** The QEMU process ID while it runs. */
    get pid(): number | undefined {
        return this.exited ? undefined : this.proc?.pid;
    }

    async start(): Promise<void> {
        const s = this.spec;
        this.sshPort = await freePort();
        for (const f of [this.qmpSocket, this.qgaSocket]) fs.rmSync(f, { force: true });
        fs.appendFileSync(this.serialLog, `\n===== boot at ${new Date().toISOString()} =====\n`);
        const accel = s.accel === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "max"];
        this.proc = spawn(
            "qemu-system-x86_64",
            [
                "-name",
                "project-e2e",
                "-machine",
                "pc",
                ...accel,
                "-smp",
                String(s.cpus),
                "-m",
                String(s.memoryMiB),
                "-display",
                "none",
                "-nodefaults",
                "-no-user-config",
                "-kernel",
                s.base.kernel,
                "-initrd",
                s.base.initrd,
                "-append",
                "root=LABEL=root ro console=ttyS0,115200",
                "-drive",
                `file=${s.systemDisk},if=virtio,format=qcow2`,
                "-drive",
                `file=${s.projectDisk},if=virtio,format=qcow2`,
                "-drive",
                `file=${s.seedIso},if=ide,media=cdrom,format=raw,readonly=on`,
                "-netdev",
                `user,id=n0,hostfwd=tcp:127.0.0.1:${this.sshPort}-:22`,
                "-device",
                `virtio-net-pci,netdev=n0,mac=${s.mac}`,
                "-device",
                "virtio-serial",
                "-chardev",
                `socket,id=qga0,path=${this.qgaSocket},server=on,wait=off`,
                "-device",
                "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
                "-chardev",
                `file,id=ser0,path=${this.serialLog},append=on`,
                "-serial",
                "chardev:ser0",
                "-qmp",
                `unix:${this.qmpSocket},server=on,wait=off`,
                "-object",
                "rng-random,id=rng0,filename=/dev/urandom",
                "-device",
                "virtio-rng-pci,rng=rng0",
            ],
            { stdio: ["ignore", "ignore", fs.openSync(path.join(s.dir, "qemu.stderr"), "a")] },
        );
        this.exited = false;
        this.proc.on("exit", () => {
            this.exited = true;
        });
    }

    /** Runs a command in the guest over SSH, as dev unless told otherwise. */
    ssh(command: string, opts: { timeoutMs?: number; extra?: string[]; user?: string } = {}): SpawnSyncReturns<string> {
        return spawnSync(
            "ssh",
            [
                "-i",
                this.spec.sshKey,
                "-p",
                String(this.sshPort),
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "LogLevel=ERROR",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "ServerAliveInterval=15",
                ...(opts.extra ?? []),
                `${opts.user ?? "dev"}@127.0.0.1`,
                command,
            ],
            { encoding: "utf8", timeout: opts.timeoutMs ?? 120_000 },
        );
    }

    /**
     * Runs a command that must succeed; returns its stdout, trimmed. A connection-level failure
     * (ssh's 255, e.g. sshd's per-source penalty after a refused login) is retried.
     */
    sh(command: string, timeoutMs?: number): string {
        let r = this.ssh(command, { timeoutMs });
        for (let i = 0; i < 3 && r.status === 255; i++) {
            spawnSync("sleep", ["10"]);
            r = this.ssh(command, { timeoutMs });
        }
        if (r.status !== 0) throw new Error(`guest command failed (${r.status ?? r.error}): ${command}\n${r.stdout}${r.stderr}`);
        return r.stdout.trim();
    }

    /** Waits until dev can log in over SSH; fails early when QEMU exits. */
    async waitForSsh(timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            if (this.exited) throw new Error("QEMU exited before SSH came up");
            if (this.ssh("true", { timeoutMs: 30_000 }).status === 0) return;
            await sleep(3000);
        }
        throw new Error(`no SSH login within ${timeoutMs / 1000}s`);
    }

    /**
     * `cloud-init status --wait`: its exit code and output. The SSH connection is retried when it
     * drops (cloud-init restarts sshd once it has written the host keys).
     */
    async waitForCloudInit(timeoutMs: number): Promise<{ code: number | null; output: string }> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const r = this.ssh("cloud-init status --wait --long", { timeoutMs: Math.max(deadline - Date.now(), 1000) });
            if (r.status !== 255 || Date.now() > deadline || this.exited) return { code: r.status, output: `${r.stdout}${r.stderr}` };
            await sleep(5000);
        }
    }

    /** Sends one QMP command and resolves with its reply. */
    qmp(command: string): Promise<unknown> {
        return jsonSession(
            this.qmpSocket,
            [{ execute: "qmp_capabilities" }, { execute: command }],
            (msg) => "return" in msg || "error" in msg,
            2,
        );
    }

    /** Pings the QEMU guest agent through its channel, as libvirt does; resolves with its reply. */
    guestAgentSync(id: number): Promise<unknown> {
        return jsonSession(this.qgaSocket, [{ execute: "guest-sync", arguments: { id } }], (msg) => "return" in msg, 1);
    }

    /** ACPI power-off, as `virsh shutdown` does; kills QEMU if the guest does not stop in time. */
    async shutdown(timeoutMs: number): Promise<boolean> {
        if (this.exited || !this.proc) return true;
        await this.qmp("system_powerdown").catch(() => undefined);
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            if (this.exited) return true;
            await sleep(1000);
        }
        this.kill();
        return false;
    }

    /** Stops QEMU by its PID, whatever state it is in. */
    kill(): void {
        const pid = this.pid;
        if (pid === undefined) return;
        try {
            process.kill(pid, "SIGTERM");
            execFileSync("sh", [
                "-c",
                `for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 ${pid} 2>/dev/null || exit 0; sleep 0.5; done; kill -9 ${pid}`,
            ]);
        } catch {
            // already gone
        }
    }

    /** The last lines of the serial console. */
    serialTail(lines = 80): string {
        if (!fs.existsSync(this.serialLog)) return "(no serial log)";
        return fs.readFileSync(this.serialLog, "utf8").split("\n").slice(-lines).join("\n");
    }
}

/** Sends JSON commands over a unix socket and resolves with the `want`-th reply matching `done`. */
function jsonSession(socket: string, commands: object[], done: (msg: Record<string, unknown>) => boolean, want: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
        const conn = net.createConnection(socket);
        let buf = "";
        let seen = 0;
        const timer = setTimeout(() => {
            conn.destroy();
            reject(new Error(`no reply on ${socket}`));
        }, 15_000);
        conn.on("connect", () => {
            for (const c of commands) conn.write(`${JSON.stringify(c)}\n`);
        });
        conn.on("data", (d) => {
            buf += d.toString();
            let nl;
            while ((nl = buf.indexOf("\n")) >= 0) {
                const line = buf.slice(0, nl).trim();
                buf = buf.slice(nl + 1);
                if (!line) continue;
                let msg: Record<string, unknown>;
                try {
                    msg = JSON.parse(line);
                } catch {
                    continue;
                }
                if (done(msg) && ++seen === want) {
                    clearTimeout(timer);
                    conn.end();
                    resolve(msg);
                }
            }
        });
        conn.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
    });
}
