// A base image is verified before any VM is built on it: the libvirt provider downloads a
// volume's source without a check, so a command first downloads the image to a cache on the
// machine running Pulumi and checks its SHA-512 (given in the config, or read from the SHA512SUMS
// beside a cloud.debian.org image), and the volume is made from that verified file.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as os from "node:os";
import * as path from "node:path";
import { BaseImage } from "./configSchema";
import { hostCommand } from "./hostCommands";

/** Where verified images are kept on the machine running Pulumi, by SHA-512: shared by every stack. */
export function imageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "project-vms", "images");
}

/** Inputs of an image fetch. */
export interface ImageFetchArgs {
    /** libvirt connection URI (the host scripts' library wants one; the fetch itself is local). */
    libvirtUri: string;
    /** The base image version. */
    image: BaseImage;
    /** The cache folder. */
    cacheDir: string;
}

/** The command that downloads and verifies a base image; its stdout is the verified local file. */
export function imageFetchCommand(name: string, args: ImageFetchArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    // An update (a changed url or sha512 of the version) refuses another image: see image_refetch.
    return hostCommand(
        name,
        {
            script: "fetch-image.sh",
            calls: { create: "image_fetch", update: "image_refetch" },
            environment: {
                LIBVIRT_URI: args.libvirtUri,
                IMAGE_VERSION: args.image.version,
                IMAGE_URL: args.image.url,
                IMAGE_SHA512: args.image.sha512 ?? "",
                IMAGE_SUMS_URL: args.image.sumsUrl ?? "",
                IMAGE_CACHE: args.cacheDir,
            },
        },
        opts,
    );
}
