// The shape every libvirt domain of project-vms shares, decided here once: the machine type, the
// guest CPU, and the device names the guest sees its disks as. The program's Domain
// (projectVm.ts), the prepared layer's builder (host-scripts/prepare-base.sh, given these through
// its environment by prepare.ts), the e2e guests (e2e/libvirtGuest.ts), the backup scripts
// (cli/backup.ts) and cloud-init's user-data.yaml (checked by test/domainShape.test.ts) use them.

/** The libvirt domain type a VM runs under: kvm, or qemu (TCG emulation) where there is no KVM. */
export type DomainType = "kvm" | "qemu";

/** pc (i440fx): the provider attaches the cloud-init ISO on IDE, which q35 lacks. */
export const DOMAIN_MACHINE = "pc";

/**
 * The guest CPU of the program's VMs: `maximum` is the host's own CPU under KVM (as
 * host-passthrough) and every feature QEMU can emulate under TCG, where libvirt refuses
 * host-passthrough ("not supported by hypervisor": a VM on a host without KVM could not start).
 */
export const DOMAIN_CPU_MODE = "maximum";

/** The guest disk the system disk is attached as. */
export const SYSTEM_DISK_TARGET = "vda";

/** The guest disk the project disk is attached as (the second disk of the domain). */
export const PROJECT_DISK_TARGET = "vdb";

/**
 * The `<cpu>` element of a domain written by hand (the builder, the e2e guests).
 * @param type the domain type: host-passthrough under KVM (as the builder always had), the
 * program's DOMAIN_CPU_MODE (without a CPU model check) under emulation.
 */
export function cpuXml(type: DomainType): string {
    return type === "kvm" ? "<cpu mode='host-passthrough'/>" : `<cpu mode='${DOMAIN_CPU_MODE}' check='none'/>`;
}

/** The environment host-scripts/prepare-base.sh takes the builder's shape from. */
export function builderShapeEnv(): Record<"DOMAIN_MACHINE" | "CPU_XML_KVM" | "CPU_XML_QEMU", string> {
    return { DOMAIN_MACHINE, CPU_XML_KVM: cpuXml("kvm"), CPU_XML_QEMU: cpuXml("qemu") };
}
