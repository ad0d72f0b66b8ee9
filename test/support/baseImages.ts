// Two base image versions and four projects: pinned, unpinned, another feature set, and alike.
export const versions = {
    "project-vms:baseImages": [
        { version: "2026-10", url: "https://cloud.debian.org/images/cloud/forky/20261001/debian-14-genericcloud-amd64-20261001.qcow2" },
        { version: "2026-11", url: "https://cloud.debian.org/images/cloud/forky/20261101/debian-14-genericcloud-amd64-20261101.qcow2" },
    ],
    "project-vms:projects": [
        { name: "myapp", base: "2026-10" },
        { name: "webapp" },
        { name: "nonix", features: { nix: false } },
        { name: "alike" },
    ],
};
