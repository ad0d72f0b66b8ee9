// The domain's shape (machine type, guest CPU, disk targets) has one source, components/
// domainShape.ts: every other place that writes or assumes it takes it from there, or is checked
// against it here, so that the program's VMs, the prepared layer's builder and the e2e guests do
// not drift apart, and the guest formats the disk the project disk is attached as.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { PROJECT_DISK_TARGET as BACKUP_TARGET } from "../cli/backup";
import { CLOUD_INIT_DIR, projectDiskLayout } from "../components/cloudInit";
import { builderShapeEnv, cpuXml, DOMAIN_CPU_MODE, DOMAIN_MACHINE, PROJECT_DISK_TARGET } from "../components/domainShape";
import { guestDomainXml } from "../e2e/libvirtGuest";
import { REPO } from "./support/schemas";

const source = (file: string) => fs.readFileSync(path.join(REPO, file), "utf8");
// Under `npm run test:mutation` the code is Stryker's instrumented copy (every mutant switched in
// behind a guard): a test of how the source is written has no source to read there.
const ASIS = /stryMutAct_9fa48/.test(source("components/projectVm.ts")) && "the code is Stryker's instrumented copy";

test("the program's VMs keep the machine type and CPU mode they have always had: pc and maximum", () => {
    assert.equal(DOMAIN_MACHINE, "pc");
    assert.equal(DOMAIN_CPU_MODE, "maximum");
    assert.equal(cpuXml("qemu"), "<cpu mode='maximum' check='none'/>", "emulation: QEMU's fullest CPU, no model check");
    assert.equal(cpuXml("kvm"), "<cpu mode='host-passthrough'/>", "the builder under KVM: the host's CPU");
});

test("the program's Domain takes its machine type and CPU mode from domainShape.ts, nowhere else", { skip: ASIS }, () => {
    const program = source("components/projectVm.ts");
    assert.match(program, /machine: DOMAIN_MACHINE,/);
    assert.match(program, /cpu: \{ mode: DOMAIN_CPU_MODE \}/);
    assert.doesNotMatch(program, /machine: "|mode: "/, "no literal machine type or CPU mode");
});

test("the builder's domain XML is made from what prepare.ts passes it, with no machine type or CPU of its own", { skip: ASIS }, () => {
    const script = source("host-scripts/prepare-base.sh");
    assert.doesNotMatch(script, /machine='(?!\$)|cpu mode=/, "no literal machine type or CPU mode in prepare-base.sh");
    assert.match(script, /\$\{DOMAIN_MACHINE:\?\}/);
    assert.match(script, /\$\{CPU_XML_KVM:\?\}/);
    assert.match(script, /\$\{CPU_XML_QEMU:\?\}/);
    assert.match(source("components/prepare.ts"), /\.\.\.builderShapeEnv\(\),/, "prepare.ts hands the builder the shape");
});

test("the builder is handed the machine type and both CPU shapes", () => {
    assert.deepEqual(builderShapeEnv(), { DOMAIN_MACHINE, CPU_XML_KVM: cpuXml("kvm"), CPU_XML_QEMU: cpuXml("qemu") });
});

test("the e2e guests are shaped as the program's VMs are", () => {
    const xml = guestDomainXml({ name: "g", dir: "/d", iso: "/d/seed.iso", serial: "/d/console.log" });
    assert.ok(xml.includes(`machine='${DOMAIN_MACHINE}'`), xml);
    assert.ok(xml.includes(cpuXml("qemu")), xml);
});

test("the backups read the disk the project disk is attached as, and the guest formats and mounts that disk", () => {
    assert.equal(BACKUP_TARGET, PROJECT_DISK_TARGET);
    const userData = parse(fs.readFileSync(path.join(CLOUD_INIT_DIR, "user-data.yaml"), "utf8"));
    const devices = (userData.fs_setup as { device: string }[]).map((f) => f.device);
    assert.deepEqual(devices, [`/dev/${PROJECT_DISK_TARGET}`], "user-data.yaml's fs_setup formats the project disk's device");
    assert.equal(projectDiskLayout().device, `/dev/${PROJECT_DISK_TARGET}`);
});
