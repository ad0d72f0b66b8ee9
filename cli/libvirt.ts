// What the CLI reads live from a host's libvirt, with virsh: domain states, addresses, volume
// sizes, and commands in a guest through the QEMU guest agent (no network path or key needed).
import { reasonOf, run, RunResult } from "./run";

/** Thrown when libvirt (or virsh, or a guest's agent) cannot answer; read-only commands go on without it. */
export class LibvirtUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LibvirtUnavailable";
    }
}

/** Runs virsh (or a stand-in in tests). */
export type RunVirsh = (args: string[], opts?: { timeoutMs?: number }) => Promise<RunResult>;

/** The real virsh on PATH. */
export const virshOnPath: RunVirsh = (args, opts) => run("virsh", args, opts);

/** A volume's size and the space it takes, in bytes. */
export interface VolumeSize {
    capacity: number;
    allocation: number;
}

/** A command run in a guest. */
export interface GuestResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Parses `virsh list --all` (quiet) into domain name → state ("running", "shut off", …). */
export function parseDomainList(text: string): Map<string, string> {
    const states = new Map<string, string>();
    for (const line of text.split("\n")) {
        const m = /^\s*(\d+|-)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
        if (m) states.set(m[2], m[3]);
    }
    return states;
}

/** Parses `virsh vol-info --bytes`. */
export function parseVolInfo(text: string): VolumeSize | undefined {
    const capacity = /^Capacity:\s+(\d+) bytes/m.exec(text);
    const allocation = /^Allocation:\s+(\d+) bytes/m.exec(text);
    return capacity && allocation ? { capacity: Number(capacity[1]), allocation: Number(allocation[1]) } : undefined;
}

/** The IPv4 addresses (without prefix length) in `virsh domifaddr` output. */
export function parseAddresses(text: string): string[] {
    return [...text.matchAll(/\bipv4\s+(\d{1,3}(?:\.\d{1,3}){3})\/\d+/g)].map((m) => m[1]);
}

/** One host's libvirt, reached at `uri`. */
export class Libvirt {
    constructor(
        readonly uri: string,
        private readonly virsh: RunVirsh = virshOnPath,
    ) {}

    private async call(args: string[], timeoutMs = 30_000): Promise<string> {
        const r = await this.virsh(["-q", "-c", this.uri, ...args], { timeoutMs });
        if (r.code === 127) throw new LibvirtUnavailable("virsh is not installed or not on PATH (Debian: libvirt-clients)");
        if (r.code !== 0) throw new LibvirtUnavailable(reasonOf(r.stderr, `exit ${r.code}`));
        return r.stdout;
    }

    /** Every domain's state, by name. */
    async states(): Promise<Map<string, string>> {
        try {
            return parseDomainList(await this.call(["list", "--all"]));
        } catch (e) {
            if (e instanceof LibvirtUnavailable) throw new LibvirtUnavailable(`libvirt at ${this.uri} cannot be reached: ${e.message}`);
            throw e;
        }
    }

    /** The domain's IPv4 addresses: DHCP leases first, else the guest agent's view. */
    async addresses(domain: string): Promise<string[]> {
        for (const source of ["lease", "agent"]) {
            try {
                const found = parseAddresses(await this.call(["domifaddr", domain, "--source", source]));
                const outside = found.filter((a) => !a.startsWith("127."));
                if (outside.length > 0) return outside;
            } catch {
                // try the next source
            }
        }
        return [];
    }

    /** Reboots a running domain the way a power button does (ACPI, or the guest agent). */
    async reboot(domain: string): Promise<void> {
        await this.call(["reboot", domain]);
    }

    /** Deletes a volume of a pool. */
    async deleteVolume(pool: string, volume: string): Promise<void> {
        await this.call(["vol-delete", "--pool", pool, volume]);
    }

    /** The names of a pool's volumes. */
    async volumes(pool: string): Promise<string[]> {
        return (await this.call(["vol-list", "--pool", pool]))
            .split("\n")
            .map((l) => l.trim().split(/\s+/)[0])
            .filter(Boolean);
    }

    /** A volume's size, or undefined when it is not there. */
    async volume(pool: string, volume: string): Promise<VolumeSize | undefined> {
        try {
            return parseVolInfo(await this.call(["vol-info", "--bytes", "--pool", pool, volume]));
        } catch {
            return undefined;
        }
    }

    /** Runs a program in the guest through its agent and waits (at most `timeoutMs`) for it to end. */
    async guestExec(domain: string, program: string, args: string[], timeoutMs = 60_000): Promise<GuestResult> {
        const agent = async (request: object) => {
            try {
                return JSON.parse(await this.call(["qemu-agent-command", domain, JSON.stringify(request)]))?.return;
            } catch (e) {
                if (e instanceof LibvirtUnavailable)
                    throw new LibvirtUnavailable(`the guest agent of ${domain} did not answer: ${e.message}`);
                throw new LibvirtUnavailable(`the guest agent of ${domain} answered with something that is not JSON`);
            }
        };
        const started = await agent({ execute: "guest-exec", arguments: { path: program, arg: args, "capture-output": true } });
        if (typeof started?.pid !== "number") throw new LibvirtUnavailable(`the guest agent of ${domain} could not run ${program}`);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const status = await agent({ execute: "guest-exec-status", arguments: { pid: started.pid } });
            if (status?.exited) {
                const text = (b64: unknown) => (typeof b64 === "string" ? Buffer.from(b64, "base64").toString("utf8") : "");
                return { code: status.exitcode ?? 1, stdout: text(status["out-data"]), stderr: text(status["err-data"]) };
            }
            if (Date.now() > deadline) throw new LibvirtUnavailable(`${program} did not finish in ${domain} within ${timeoutMs / 1000}s`);
            await new Promise((r) => setTimeout(r, 500));
        }
    }
}
