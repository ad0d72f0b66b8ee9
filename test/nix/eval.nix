# Evaluates the project's Nix files against test/nix/stubs.nix and returns, as JSON-able values,
# what they declare and set:
#   nix-instantiate --eval --strict --json test/nix/eval.nix -A module --arg settings '{ enable = true; }'
{
  settings ? { },
}:

let
  inherit (import ./stubs.nix) lib pkgs;
  inherit (builtins) attrNames mapAttrs;

  # The module system's part that matters here: option defaults overlaid with the user's settings.
  module =
    let
      m = import ../../nix/module.nix {
        inherit lib pkgs;
        config.services.project-vms = mapAttrs (_: o: o.default) m.options.services.project-vms // settings;
      };
    in
    m;
  options = module.options.services.project-vms;
  names = map (p: p.name);
  describe = value: if value ? type && value.type == "derivation" then value.name else value;
in
{
  module = {
    options = mapAttrs (name: o: {
      type = o.type.name;
      description = o.description;
      default = describe o.default;
      defaultText = o.defaultText.text or null;
      defaultTypeChecks = o.type.check o.default;
    }) options;
    # Settings the option types refuse, by option.
    refused = builtins.filter (n: !(options.${n}.type.check settings.${n})) (attrNames settings);
    enabled = module.config.condition;
    config =
      let
        c = module.config.content;
      in
      c
      // {
        environment.systemPackages = names c.environment.systemPackages;
        services.openssh.enable = c.services.openssh.enable // { };
      };
  };

  package =
    let
      p = pkgs.callPackage ../../nix/package.nix { };
    in
    {
      inherit (p) name;
      inherit (p.args) pname version npmBuildScript postInstall meta;
      src = p.args.src;
      npmDeps = p.args.npmDeps;
      npmConfigHook = p.args.npmConfigHook.name;
      nodejs = p.args.nodejs.name;
      nativeBuildInputs = names p.args.nativeBuildInputs;
    };

  shell = names (import ../../nix/shell.nix { inherit pkgs; }).args.packages;

  flake =
    let
      flake = import ../../flake.nix;
      outputs = flake.outputs {
        self = { };
        nixpkgs = {
          inherit lib;
          legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: pkgs);
        };
      };
    in
    {
      inherit (flake) description;
      nixpkgs = flake.inputs.nixpkgs.url;
      packages = mapAttrs (_: ps: mapAttrs (_: p: p.name) ps) outputs.packages;
      devShells = mapAttrs (_: s: names s.default.args.packages) outputs.devShells;
      nixosModule = toString outputs.nixosModules.default;
    };
}
