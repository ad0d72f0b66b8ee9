// How the reading commands see a host: the stack file, the stack's outputs and libvirt's live
// state, combined into rows, with what could not be seen said.
import { isIP } from "node:net";
import { ConfigError, hostnameOf, Settings } from "../../components/config";
import { sshCommand, tailnetFqdn } from "../../components/names";
import { Libvirt, LibvirtUnavailable } from "../libvirt";
import { ProjectOutput, PulumiUnavailable } from "../pulumi";
import { StackFile, UsageError } from "../stacks";
import { Context, settingsOf } from "./context";

/** One project as `list` and `status` show it. */
export interface ProjectRow {
    /** The host stack. */
    host: string;
    /** The project name. */
    name: string;
    /** `project-<name>`. */
    hostname: string;
    /** What the stack file asks for; null when the stack file has problems. */
    desired: "running" | "stopped" | null;
    /** libvirt's state of the VM ("running", "shut off", …), "absent" when there is no VM, null when unknown. */
    state: string | null;
    /** Memory in MiB. */
    memory: number | null;
    /** vCPUs. */
    cpus: number | null;
    /** Project disk size, e.g. `100G`. */
    disk: string | null;
    /** The base image version the project is pinned to. */
    base: string | null;
    /**
     * Whether removing the entry would delete the project disk: the entry says purge: true (or,
     * in `status`, Pulumi's state was last applied so); null when unknown.
     */
    purge: boolean | null;
    /** The tailnet name. */
    fqdn: string | null;
    /** The VM's address on the host's network. */
    ip: string | null;
    /** How to log in. */
    ssh: string | null;
}

/** One host's view: its rows and what could not be seen. */
export interface HostView {
    settings?: Settings;
    rows: ProjectRow[];
    outputs: Record<string, ProjectOutput>;
    libvirt?: Libvirt;
    warnings: string[];
    /** Set when the stack file could not be read at all (not YAML): its projects are unknown. */
    unreadable?: string;
}

export async function viewHost(ctx: Context, host: string): Promise<HostView> {
    const warnings: string[] = [];
    let stack: StackFile;
    try {
        stack = new StackFile(ctx.dir, host);
    } catch (e) {
        // A file that is not even YAML hides this host's projects, not the other hosts'.
        if (!(e instanceof UsageError)) throw e;
        return { rows: [], outputs: {}, warnings: [`${host}: ${e.message}; its projects cannot be listed`], unreadable: e.message };
    }
    let settings: Settings | undefined;
    try {
        settings = stack.settings();
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        warnings.push(`${host}: the stack file has problems, so only the project names are shown (${e.problems.join("; ")})`);
    }
    let outputs: Record<string, ProjectOutput> = {};
    let noOutputs: string | undefined;
    try {
        outputs = await ctx.pulumi.outputs(host);
    } catch (e) {
        if (!(e instanceof PulumiUnavailable)) throw e;
        noOutputs = e.message;
    }
    let states: Map<string, string> | undefined;
    let noLibvirt: string | undefined;
    const libvirt = settings ? ctx.libvirt(settings.libvirtUri) : undefined;
    if (libvirt) {
        try {
            states = await libvirt.states();
        } catch (e) {
            if (!(e instanceof LibvirtUnavailable)) throw e;
            noLibvirt = e.message;
        }
    }
    if (noOutputs) warnings.push(`${host}: no stack outputs (${noOutputs})${states ? "; addresses come from libvirt" : ""}`);
    if (noLibvirt) warnings.push(`${host}: ${noLibvirt}; the VMs' live state is unknown`);
    const rows: ProjectRow[] = [];
    if (!settings) {
        for (const name of stack.projectNames()) {
            rows.push({
                host,
                name,
                hostname: hostnameOf(name),
                desired: null,
                state: null,
                memory: null,
                cpus: null,
                disk: null,
                base: null,
                purge: null,
                fqdn: null,
                ip: null,
                ssh: null,
            });
        }
        return { rows, outputs, warnings };
    }
    for (const p of settings.projects) {
        const out = outputs[p.name];
        const state = states ? (states.get(p.hostname) ?? "absent") : null;
        // An address reaches ssh_config, terminals and commands: only a real one is taken (on a
        // bridge the guest reports it, and a guest can say anything).
        let ip = addressOrNull(out?.ip, `${host}: the stack output's address of ${p.name}`, warnings);
        if (!ip && libvirt && state === "running")
            ip = addressOrNull((await libvirt.addresses(p.hostname))[0], `${host}: libvirt's address of ${p.hostname}`, warnings);
        const fqdn = tailnetFqdn(p, settings.tailscale.tailnet) ?? null;
        rows.push({
            host,
            name: p.name,
            hostname: p.hostname,
            desired: p.running ? "running" : "stopped",
            state,
            memory: p.memory,
            cpus: p.cpus,
            disk: p.disk.text,
            base: p.base ?? null,
            purge: p.purge,
            fqdn,
            ip,
            ssh: fqdn || ip ? sshCommand((fqdn ?? ip)!) : null,
        });
    }
    return { settings, rows, outputs, libvirt, warnings };
}

/** One project of a host as viewHost sees it (the host's stack file must be valid). */
export async function viewProject(
    ctx: Context,
    host: string,
    name: string,
): Promise<{ view: HostView & { settings: Settings }; row: ProjectRow }> {
    const view = await viewHost(ctx, host);
    // A stack file with problems: read again, to stop on them as every other command does.
    const settings = view.settings ?? settingsOf(new StackFile(ctx.dir, host));
    const row = view.rows.find((r) => r.name === name);
    if (!row) throw new UsageError(new StackFile(ctx.dir, host).noSuchProject(name));
    return { view: { ...view, settings }, row };
}

/** Renders rows as a left-aligned table with a header. */
export function table(headers: string[], rows: string[][]): string[] {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd(); // the last column unpadded
    return [line(headers), ...rows.map(line)];
}

export function stateText(row: ProjectRow): string {
    const purge = row.purge ? ", purge pending: removing it deletes its disk" : "";
    if (row.state === null) return `?${row.desired ? ` (wants ${row.desired}${purge})` : ""}`;
    const wanted = row.desired === "stopped" ? "shut off" : row.desired;
    return row.desired && row.state !== wanted
        ? `${row.state} (wants ${row.desired}${purge})`
        : `${row.state}${purge ? ` (${purge.slice(2)})` : ""}`;
}

/** `value` when it is an IPv4 or IPv6 address; else null, and a warning (value escaped) when it was set. */
export function addressOrNull(value: unknown, what: string, warnings: string[]): string | null {
    if (value === undefined || value === null || value === "") return null;
    if (typeof value === "string" && isIP(value) !== 0) return value;
    warnings.push(`${what} is not an IP address, left out: ${JSON.stringify(value).slice(0, 80)}`);
    return null;
}
