# Development shell: what `npm ci`, `npm test` and `pulumi up` need, plus the e2e suite's tools.
#   nix-shell nix/shell.nix      (or `nix develop` with the flake)
{
  pkgs ? import <nixpkgs> { },
}:

pkgs.mkShell {
  packages = [
    pkgs.nodejs_20
    pkgs.pulumi-bin
    pkgs.libvirt
    pkgs.cdrkit
    pkgs.qemu-utils
    pkgs.openssh
    pkgs.jq
    pkgs.curl
    pkgs.shellcheck
    pkgs.nix
  ];
  shellHook = ''
    echo "project-vms: npm ci && pulumi up --stack <host>; npm test. project-vm: npm link, or node dist/cli/main.js"
  '';
}
