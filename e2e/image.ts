// The stand-in for Debian's testing cloud image: a bootable Debian testing root filesystem with
// cloud-init, built from Debian packages with mmdebstrap, laid on a partitioned qcow2 disk like
// the genericcloud image (so growpart and resize2fs have something to grow), bootable from its disk
// like that image (GRUB in the MBR gap, as the program's domains boot), plus the kernel and initrd
// for QEMU's direct kernel boot. Cached per recipe.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

/** What the image is made of; its hash is the cache key. */
export const RECIPE = {
    suite: "testing",
    mirror: "http://deb.debian.org/debian",
    packages: [
        "linux-image-cloud-amd64",
        "systemd-sysv",
        "udev",
        "dbus",
        "systemd-resolved",
        "netplan.io",
        "cloud-init",
        "cloud-guest-utils",
        "fdisk",
        "e2fsprogs",
        "openssh-server",
        "openssh-client",
        "sudo",
        "ca-certificates",
        "passwd",
        "adduser",
        "iproute2",
        "procps",
        "jq",
    ],
    // As Debian's cloud images: no SSH host keys and no machine-id baked in, root by label.
    customize: [
        'rm -f "$1"/etc/ssh/ssh_host_*',
        ': > "$1"/etc/machine-id',
        'echo "LABEL=root / ext4 defaults,errors=remount-ro 0 1" > "$1"/etc/fstab',
        'rm -f "$1"/etc/hostname',
        // netplan renders for systemd-networkd, which Debian ships disabled.
        'chroot "$1" systemctl enable systemd-networkd.service',
    ],
    diskSize: "3G",
    // GRUB for BIOS, from the host's grub-pc-bin: core.img in the gap after the MBR, its modules and
    // grub.cfg on the root filesystem.
    bootLoader: { modules: ["biosdisk", "part_msdos", "ext2"], cmdline: "root=LABEL=root ro console=tty0 console=ttyS0,115200 panic=10" },
    version: 2,
};

/** The cached artifacts of one recipe. */
export interface BaseImage {
    /** qcow2 disk with one ext4 partition labelled root. */
    disk: string;
    /** Kernel for direct boot. */
    kernel: string;
    /** Its initrd. */
    initrd: string;
    /** Whether this call built it (false: cache hit). */
    built: boolean;
}

/** The cache folder: $PROJECT_VMS_E2E_CACHE, else ~/.cache/project-vms/e2e. */
export function cacheDir(): string {
    return process.env.PROJECT_VMS_E2E_CACHE ?? path.join(os.homedir(), ".cache", "project-vms", "e2e");
}

/**
 * Files the test image carries beyond Debian's packages: a stand-in `tailscale` and its unit, as
 * this machine cannot reach Tailscale (the program's provisioning runs unchanged against them).
 */
export const STAND_INS = [
    { from: "test/support/guest/tailscale", to: "usr/local/bin/tailscale", mode: 0o755 },
    { from: "test/support/guest/tailscaled.service", to: "etc/systemd/system/tailscaled.service", mode: 0o644 },
];

const REPO = path.join(__dirname, "..");

/**
 * Which image: `bare` is Debian's cloud image as it comes (the provisioning installs everything);
 * `packaged` also holds the base packages the program's user-data lists (cloud-init/user-data.yaml),
 * installed natively by mmdebstrap, so that a prepared layer's builder has no package to install
 * under emulation. The engine suite uses it: what it proves is Pulumi's and libvirt's side; the apt
 * path is the guest e2e's (e2e/guest.extra.ts: bare image, cold path).
 */
export type ImageVariant = "bare" | "packaged";

/** The packages of a variant: the recipe's, plus (packaged) those the program's user-data installs. */
export function imagePackages(variant: ImageVariant): string[] {
    if (variant === "bare") return RECIPE.packages;
    const userData = parse(fs.readFileSync(path.join(REPO, "cloud-init", "user-data.yaml"), "utf8")) as { packages: string[] };
    return [...new Set([...RECIPE.packages, ...userData.packages])];
}

export function recipeKey(variant: ImageVariant = "bare"): string {
    const hash = createHash("sha256")
        .update(JSON.stringify(RECIPE))
        .update(JSON.stringify(imagePackages(variant)));
    for (const f of STAND_INS) hash.update(f.to).update(fs.readFileSync(path.join(REPO, f.from)));
    return hash.digest("hex").slice(0, 16);
}

function run(cmd: string, args: string[], log: (line: string) => void): void {
    log(`$ ${cmd} ${args.join(" ")}`);
    execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 });
}

/** Returns the base image for RECIPE (and variant), building it when the cache has none. */
export function baseImage(log: (line: string) => void, variant: ImageVariant = "bare"): BaseImage {
    const prefix = `debian-${RECIPE.suite}-${variant}-`;
    const dir = path.join(cacheDir(), `${prefix}${recipeKey(variant)}`);
    const out = { disk: path.join(dir, "base.qcow2"), kernel: path.join(dir, "vmlinuz"), initrd: path.join(dir, "initrd.img") };
    if (Object.values(out).every((f) => fs.existsSync(f))) return { ...out, built: false };

    // Older recipes' images are of no further use.
    if (fs.existsSync(cacheDir())) {
        for (const old of fs.readdirSync(cacheDir()).filter((d) => d.startsWith(prefix) || /^debian-testing-[0-9a-f]{16}$/.test(d))) {
            fs.rmSync(path.join(cacheDir(), old), { recursive: true, force: true });
        }
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-image-"));
    try {
        const rootfs = path.join(work, "rootfs");
        run(
            "mmdebstrap",
            [
                "--variant=apt",
                "--mode=root",
                `--include=${imagePackages(variant).join(",")}`,
                // The mirror's testing Release files may be past Valid-Until on frozen snapshots.
                '--aptopt=Acquire::Check-Valid-Until "false"',
                ...RECIPE.customize.map((h) => `--customize-hook=${h}`),
                RECIPE.suite,
                rootfs,
                RECIPE.mirror,
            ],
            log,
        );
        for (const f of STAND_INS) {
            fs.copyFileSync(path.join(REPO, f.from), path.join(rootfs, f.to));
            fs.chmodSync(path.join(rootfs, f.to), f.mode);
        }
        const boot = path.join(rootfs, "boot");
        const kernel = fs.readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
        const initrd = fs.readdirSync(boot).find((f) => f.startsWith("initrd.img-"));
        if (!kernel || !initrd) throw new Error(`no kernel/initrd in ${boot}`);
        const core = installGrubFiles(rootfs, kernel, initrd, work, log);

        // One MBR partition from 1 MiB to the end, holding an ext4 made from the root filesystem.
        const raw = path.join(work, "disk.raw");
        const part = path.join(work, "root.ext4");
        const bytes = Number(RECIPE.diskSize.replace("G", "")) * 1024 ** 3;
        run("mke2fs", ["-q", "-t", "ext4", "-L", "root", "-d", rootfs, "-F", part, `${bytes / 1024 ** 2 - 1}M`], log);
        fs.writeFileSync(raw, "");
        fs.truncateSync(raw, bytes);
        execFileSync("sfdisk", ["--quiet", raw], { input: "label: dos\nstart=2048, type=83\n" });
        run("dd", [`if=${part}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"], log);
        // The MBR's boot code (its first 440 bytes: the partition table stays) loads core.img from
        // sector 1, where it goes; core.img knows its own length (grub-mkimage wrote it in).
        run("dd", [`if=${GRUB_DIR}/boot.img`, `of=${raw}`, "bs=440", "count=1", "conv=notrunc", "status=none"], log);
        run("dd", [`if=${core}`, `of=${raw}`, "bs=512", "seek=1", "conv=notrunc", "status=none"], log);

        fs.mkdirSync(dir, { recursive: true });
        run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, `${out.disk}.tmp`], log);
        fs.copyFileSync(path.join(boot, kernel), `${out.kernel}.tmp`);
        fs.copyFileSync(path.join(boot, initrd), `${out.initrd}.tmp`);
        for (const f of Object.values(out)) fs.renameSync(`${f}.tmp`, f);
        return { ...out, built: true };
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** GRUB's BIOS images and modules, from Debian's grub-pc-bin. */
export const GRUB_DIR = "/usr/lib/grub/i386-pc";

/**
 * Puts GRUB's modules and a grub.cfg that boots `kernel` into the root filesystem, and makes the
 * core.img that finds them on the first partition; returns its path. It must fit in the 1 MiB gap.
 */
function installGrubFiles(rootfs: string, kernel: string, initrd: string, work: string, log: (line: string) => void): string {
    const grub = path.join(rootfs, "boot", "grub");
    fs.mkdirSync(path.join(grub, "i386-pc"), { recursive: true });
    for (const f of fs.readdirSync(GRUB_DIR).filter((f) => /\.(mod|lst)$/.test(f))) {
        fs.copyFileSync(path.join(GRUB_DIR, f), path.join(grub, "i386-pc", f));
    }
    fs.writeFileSync(
        path.join(grub, "grub.cfg"),
        [
            "set timeout=0",
            "serial --unit=0 --speed=115200",
            "terminal_input console serial",
            "terminal_output console serial",
            `linux /boot/${kernel} ${RECIPE.bootLoader.cmdline}`,
            `initrd /boot/${initrd}`,
            "boot",
            "",
        ].join("\n"),
    );
    const core = path.join(work, "core.img");
    run("grub-mkimage", ["-O", "i386-pc", "-d", GRUB_DIR, "-p", "(hd0,msdos1)/boot/grub", "-o", core, ...RECIPE.bootLoader.modules], log);
    if (fs.statSync(core).size > 1023 * 512)
        throw new Error(`core.img is ${fs.statSync(core).size} bytes: too large for the gap before the partition`);
    return core;
}
