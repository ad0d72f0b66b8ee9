# Evaluates the project's Nix files against test/nix/stubs.nix and returns, as JSON-able values,
# what they declare and set:
#   nix-instantiate --eval --strict --json test/nix/eval.nix -A module --arg settings '{ enable = true; }'
{
  settings ? { },
}:

let
  inherit (import ./stubs.nix) lib pkgs;
  inherit (builtins) attrNames mapAttrs;

  isOption = o: (o._type or null) == "option";
  # Option defaults, nested as the options are (services.project-vms.backups.enable).
  defaults = opts: mapAttrs (_: o: if isOption o then o.default else defaults o) opts;
  # The user's settings over the defaults, merged into nested groups of options.
  merge = a: b: a // mapAttrs (n: v: if builtins.isAttrs v && builtins.isAttrs (a.${n} or null) && !(isOption v) && !(v ? outPath) then merge a.${n} v else v) b;
  # Options flattened to dotted names: { "backups.enable" = <option>; … }.
  flatten = prefix: opts: builtins.concatLists (map (n:
    if isOption opts.${n} then [ { name = prefix + n; value = opts.${n}; } ] else flatten "${prefix}${n}." opts.${n}
  ) (attrNames opts));
  getPath = set: path: builtins.foldl' (s: k: if builtins.isAttrs s && s ? ${k} then s.${k} else null) set (lib.splitDots path);
  hasPath = set: path: (builtins.foldl' (s: k: if s != null && builtins.isAttrs s && s ? ${k} then s.${k} else null) set (lib.splitDots path)) != null;

  # The module system's part that matters here: option defaults overlaid with the user's settings.
  module =
    let
      m = import ../../nix/module.nix {
        inherit lib pkgs;
        config.services.project-vms = merge (defaults m.options.services.project-vms) settings;
      };
    in
    m;
  options = builtins.listToAttrs (flatten "" module.options.services.project-vms);
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
    refused = builtins.filter (n: hasPath settings n && !(options.${n}.type.check (getPath settings n))) (attrNames options);
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
