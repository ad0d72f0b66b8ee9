// A guest defined in a real libvirtd for the e2e tests that drive host scripts and the CLI against
// libvirt itself (backup, ready, power): the same kernel and image as the QEMU guests, a domain like
// the provider's (pc machine, ACPI, cloud-init CD on IDE, guest agent channel, serial console to a
// file), and a NoCloud seed. Under TCG a guest kernel now and then dies early (seen in CI: a panic
// in crng_make_state 18 s into boot, after which the test waited 20 minutes for an agent that could
// never come). So the guest gets QEMU's fullest emulated CPU (RDRAND included) and a virtio RNG, its
// kernel reboots 10 s after a panic (libvirt restarts it: on_reboot=restart), and waits give up at
// once when the console shows the guest panicking again and again.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cpuXml, DOMAIN_MACHINE, SYSTEM_DISK_TARGET } from "../components/domainShape";

/** A NoCloud ISO (label cidata) in `dir` holding `userData` (as #cloud-config) and an instance-id. */
export function seedIso(dir: string, name: string, userData: object, instanceId: string, hostname = name): string {
    const d = path.join(dir, `${name}.d`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, "user-data"), `#cloud-config\n${JSON.stringify(userData)}\n`);
    fs.writeFileSync(path.join(d, "meta-data"), `instance-id: ${instanceId}\nlocal-hostname: ${hostname}\n`);
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
    ]);
    return iso;
}

export interface GuestDomain {
    /** Domain name. */
    name: string;
    /** Folder holding `kernel`, `initrd` and `disk.qcow2` (the system disk). */
    dir: string;
    /** The cloud-init CD. */
    iso: string;
    /** The serial console's log file. */
    serial: string;
    /** Extra disk elements (e.g. the project disk as vdb). */
    extraDisks?: string[];
    /** The NIC's MAC address; libvirt picks one when unset. */
    mac?: string;
}

/** The domain XML of a test guest (see the file comment for why the CPU, RNG and panic settings). */
export function guestDomainXml(g: GuestDomain): string {
    return `<domain type='qemu'>
  <name>${g.name}</name><memory unit='MiB'>1536</memory><vcpu>2</vcpu>
  <os><type arch='x86_64' machine='${DOMAIN_MACHINE}'>hvm</type><kernel>${g.dir}/kernel</kernel><initrd>${g.dir}/initrd</initrd>
    <cmdline>root=LABEL=root ro console=ttyS0 panic=10</cmdline></os>
  <features><acpi/><apic/></features>
  ${cpuXml("qemu")}
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>restart</on_crash>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${g.dir}/disk.qcow2'/><target dev='${SYSTEM_DISK_TARGET}' bus='virtio'/></disk>
    ${(g.extraDisks ?? []).join("\n    ")}
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${g.iso}'/><target dev='hdd' bus='ide'/><readonly/></disk>
    <interface type='user'>${g.mac ? `<mac address='${g.mac}'/>` : ""}<model type='virtio'/></interface>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <serial type='file'><source path='${g.serial}'/><target port='0'/></serial>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>`;
}

/** How many times the guest's kernel panicked, by its console log. */
export function kernelPanics(serialLog: string): number {
    const text = fs.existsSync(serialLog) ? fs.readFileSync(serialLog, "utf8") : "";
    return (text.match(/Kernel panic - not syncing/g) ?? []).length;
}

/** The console's last `n` lines, for a failure message. */
export function consoleTail(serialLog: string, n = 40): string {
    return fs.existsSync(serialLog) ? fs.readFileSync(serialLog, "utf8").split("\n").slice(-n).join("\n") : "(no console log)";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `ok` every 5 s until it holds. Throws after `timeoutMs`, or as soon as the guest has
 * panicked `maxPanics` times (each panic reboots it; one is TCG's bad luck, three is a broken guest),
 * with the console's tail either way. A panic that the guest recovers from is logged.
 */
export async function waitForGuest(
    what: string,
    serialLog: string,
    ok: () => Promise<boolean>,
    timeoutMs: number,
    maxPanics = 3,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = kernelPanics(serialLog);
    while (Date.now() < deadline) {
        if (await ok().catch(() => false)) return;
        const panics = kernelPanics(serialLog);
        if (panics > seen) {
            console.log(`e2e: the guest's kernel panicked (${panics} in all); it reboots by itself (panic=10)`);
            seen = panics;
        }
        if (panics >= maxPanics)
            throw new Error(`${what}: the guest's kernel panicked ${panics} times; console:\n${consoleTail(serialLog)}`);
        await sleep(5000);
    }
    throw new Error(`${what} within ${timeoutMs / 1000}s; console:\n${consoleTail(serialLog)}`);
}
