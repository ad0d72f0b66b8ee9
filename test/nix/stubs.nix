# Stand-ins for the parts of nixpkgs that the project's Nix files use, so that they can be
# evaluated where nixpkgs is not (CI has Debian's nix-bin and no channel). Option types carry a
# `check` like nixpkgs' do; packages are named attribute sets; fetchers and builders return their
# arguments for the test to inspect.
let
  inherit (builtins) all attrNames elem filter foldl' isAttrs isBool isInt isList isString listToAttrs map pathExists;
  pkg = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  type = name: check: { inherit name check; };
  lib = rec {
    genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
    optional = cond: x: if cond then [ x ] else [ ];
    optionals = cond: xs: if cond then xs else [ ];
    concatStringsSep = builtins.concatStringsSep;
    splitDots = s: builtins.filter builtins.isString (builtins.split "[.]" s);
    hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
    hasInfix = i: s: builtins.match ".*${i}.*" s != null;
    importJSON = path: builtins.fromJSON (builtins.readFile path);
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/bin") ps);
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkDefault = content: { _type = "override"; priority = 1000; inherit content; };
    mkOption = args: { _type = "option"; } // args;
    mkEnableOption = name: mkOption {
      type = types.bool;
      default = false;
      example = true;
      description = "Whether to enable ${name}.";
    };
    types = {
      bool = type "bool" isBool;
      str = type "str" isString;
      package = type "package" (v: isAttrs v && v.type or null == "derivation");
      listOf = t: type "listOf ${t.name}" (v: isList v && all t.check v);
      nullOr = t: type "nullOr ${t.name}" (v: v == null || t.check v);
      enum = vs: type "enum" (v: elem v vs);
      ints.positive = type "positive int" (v: isInt v && v > 0);
    };
    fileset = {
      unions = ps: ps;
      toSource = { root, fileset }: {
        root = toString root;
        files = map toString fileset;
        missing = map toString (filter (p: !pathExists p) fileset);
      };
    };
    licenses.mit = "MIT";
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
  };
  pkgs = rec {
    inherit lib;
    callPackage = fn: overrides: let f = import fn; in f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
    buildNpmPackage = args: pkg "${args.pname}-${args.version}" // { inherit args; };
    # In nixpkgs a callable attribute set that also carries its npmConfigHook.
    importNpmLock = {
      __functor = _: { npmRoot }: let lock = lib.importJSON (npmRoot + "/package-lock.json"); in {
        npmRoot = toString npmRoot;
        lockfileVersion = lock.lockfileVersion;
        packages = builtins.length (attrNames lock.packages);
      };
      npmConfigHook = pkg "npm-config-hook";
    };
    mkShell = args: pkg "shell" // { inherit args; };
  } // lib.genAttrs [
    "nodejs_20" "makeWrapper" "pulumi-bin" "libvirt" "cdrkit" "openssh" "jq" "curl" "qemu-utils" "qemu_kvm" "shellcheck" "nix" "bash" "gawk"
  ] pkg;
in
{
  inherit lib pkgs;
}
