// A project's domain name must be free in libvirt when Pulumi creates the domain. The provider
// defines the domain and then starts it; when the start fails, or `pulumi up` is stopped mid-create,
// the defined domain stays in libvirt but not in Pulumi's state, and every later `pulumi up` failed
// with "domain 'project-x' already exists" until someone ran `virsh undefine`. A Pulumi resource
// hook runs host-scripts/domain-slot.sh right before each create of the domain (never in a preview):
// a leftover of this very project (its MAC, disks only in its folder) is removed with its disks
// kept; any other domain of that name stops the create, named.
import * as pulumi from "@pulumi/pulumi";
import { runHostScript } from "./hostRun";

/** Where the hook looks. */
export interface DomainSlotArgs {
    /** libvirt connection URI of the host. */
    libvirtUri: string;
    /** The domain's name, project-<name>. */
    domain: string;
    /** The project's NIC MAC (projectMac of stack and name): what tells its leftover from another domain. */
    mac: string;
    /** The project's folder on the host: a leftover's disks all lie in it. */
    projectDir: string;
    /** Seconds a running leftover gets to shut down on ACPI before it is forced off. */
    shutdownTimeout: number;
}

/**
 * Runs domain-slot.sh's check-and-clear for `args`, in the environment `env` (the program's own);
 * rejects with its message when it refuses.
 */
export async function freeDomainSlot(args: DomainSlotArgs, env: NodeJS.ProcessEnv = process.env): Promise<string> {
    const r = await runHostScript({
        script: "domain-slot.sh",
        fn: "domain_slot_free",
        // The whole environment, as the command provider gives its scripts: a qemu+ssh URI
        // needs the SSH agent (SSH_AUTH_SOCK) and HOME's known_hosts.
        env: {
            ...env,
            LIBVIRT_URI: args.libvirtUri,
            DOMAIN: args.domain,
            MAC: args.mac,
            PROJECT_DIR: args.projectDir,
            SHUTDOWN_TIMEOUT: String(args.shutdownTimeout),
        },
        timeoutMs: (args.shutdownTimeout + 120) * 1000,
    });
    if (r.code !== 0) throw new Error(r.stderr.trim() || `domain-slot.sh failed (exit ${r.code})`);
    return r.stderr.trim();
}

/** The beforeCreate hook of a project's domain (named per domain: the engine tells hooks by name). */
export function domainSlotHook(args: DomainSlotArgs): pulumi.ResourceHook {
    return new pulumi.ResourceHook(`${args.domain}-slot`, async () => {
        const said = await freeDomainSlot(args);
        if (said) pulumi.log.info(said);
    });
}
