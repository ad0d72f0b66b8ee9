{
  description = "project-vms: one isolated development VM per software project on a libvirt/KVM host, managed with Pulumi";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      # nix build .#project-vm; nix run . -- list --all
      packages = forEachSystem (pkgs: rec {
        project-vm = pkgs.callPackage ./nix/package.nix { };
        default = project-vm;
      });

      # nix develop
      devShells = forEachSystem (pkgs: {
        default = import ./nix/shell.nix { inherit pkgs; };
      });

      # imports = [ project-vms.nixosModules.default ]; services.project-vms.enable = true;
      nixosModules.default = ./nix/module.nix;
    };
}
