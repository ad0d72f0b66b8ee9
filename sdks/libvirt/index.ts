// @pulumi/libvirt — a hand-written, typed binding for the libvirt provider plugin v0.5.4
// (pulumi-libvirt, bridging terraform-provider-libvirt v0.8.1), written from the provider's
// published schema. Same module shape as the generated SDK, so `npm i @pulumi/libvirt@0.5.4` can
// replace this folder without a code change.
import * as types from "./types";

export { CloudInitDisk, CloudInitDiskArgs } from "./cloudInitDisk";
export { Domain, DomainArgs } from "./domain";
export { Network, NetworkArgs } from "./network";
export { Pool, PoolArgs } from "./pool";
export { Provider, ProviderArgs } from "./provider";
export { Volume, VolumeArgs } from "./volume";
export { pluginVersion } from "./utilities";
export { types };
