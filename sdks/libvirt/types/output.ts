// Nested output types: the input shapes resolved, with the properties the provider always
// computes (the schema's `requiredOutputs`) made non-optional.
import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./input";

type Resolved<T, Always extends keyof T = never> = pulumi.Unwrap<Omit<T, Always>> & Required<pulumi.Unwrap<Pick<T, Always>>>;

export type DomainBootDevice = Resolved<inputs.DomainBootDevice>;
export type DomainConsole = Resolved<inputs.DomainConsole>;
export type DomainCpu = Resolved<inputs.DomainCpu, "mode">;
export type DomainDisk = Resolved<inputs.DomainDisk, "wwn">;
export type DomainFilesystem = Resolved<inputs.DomainFilesystem>;
export type DomainGraphics = Resolved<inputs.DomainGraphics>;
export type DomainNetworkInterface = Resolved<
    inputs.DomainNetworkInterface,
    "addresses" | "hostname" | "mac" | "networkId" | "networkName"
>;
export type DomainNvram = Resolved<inputs.DomainNvram, "file" | "template">;
export type DomainTpm = Resolved<inputs.DomainTpm>;
export type DomainVideo = Resolved<inputs.DomainVideo>;
export type DomainXml = Resolved<inputs.DomainXml>;
export type NetworkDhcp = Resolved<inputs.NetworkDhcp, "enabled">;
export type NetworkDns = Resolved<inputs.NetworkDns>;
export type NetworkDnsmasqOptions = Resolved<inputs.NetworkDnsmasqOptions>;
export type NetworkRoute = Resolved<inputs.NetworkRoute>;
export type NetworkXml = Resolved<inputs.NetworkXml>;
export type PoolSource = Resolved<inputs.PoolSource>;
export type PoolTarget = Resolved<inputs.PoolTarget>;
export type PoolXml = Resolved<inputs.PoolXml>;
export type VolumeXml = Resolved<inputs.VolumeXml>;
