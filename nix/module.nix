# NixOS module for a project-vms host (storage, raider): makes the host ready for the Pulumi
# stacks that put one development VM per project on it, and gives its admins the tools.
#
#   imports = [ ./project-vms/nix/module.nix ];   # or the flake's nixosModules.default
#   services.project-vms = {
#     enable = true;
#     adminUsers = [ "admin" ];   # the user in the stacks' libvirtUri, qemu+ssh://admin@<host>/system
#   };
#
# The VMs themselves are Pulumi's: this module never defines a domain, a pool or a network.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.project-vms;
  inherit (lib) literalExpression mkEnableOption mkIf mkOption optional types;
  backupUser = if cfg.backups.user != null then cfg.backups.user else if cfg.adminUsers != [ ] then builtins.head cfg.adminUsers else null;
in
{
  options.services.project-vms = {
    enable = mkEnableOption "the project-vms host: libvirtd with QEMU/KVM, the storage folder, the admins' access and the project-vm CLI";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The project-vm CLI (its runtime tools are on its PATH).";
    };

    storageDir = mkOption {
      type = types.str;
      default = "/var/lib/project-vms";
      example = "/srv/project-vms";
      description = ''
        Folder holding the base images (base/) and one folder per project, with its system disk
        and its project disk. Must be what the host's stack sets as project-vms:storageDir.
        Only root (libvirtd) and QEMU go in: it is created root-owned, mode 0711.
      '';
    };

    adminUsers = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "admin" ];
      description = ''
        Existing users who run Pulumi (here or on a workstation) for this host: they join the
        libvirtd group, so that qemu:///system and qemu+ssh://<user>@<host>/system reach libvirt
        as the stacks need. Give each an SSH key in users.users.<name>.openssh.authorizedKeys.
      '';
    };

    networkBridge = mkOption {
      type = types.nullOr types.str;
      default = "project-vms";
      description = ''
        The bridge of the NAT network the stacks create (it is named as the network: the stacks'
        network.name, default project-vms). The firewall trusts it, so that the VMs get DHCP and
        DNS from libvirt. Null when the stacks attach the VMs to an existing network or bridge.
      '';
    };

    restoreRunningVms = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Bring back, after a host reboot, the VMs that were running before it, also those whose
        project says autostart: false (a project set running: false is never started by the
        host: its VM does not autostart and was not running). Uses libvirt's guests service.
      '';
    };

    onHostShutdown = mkOption {
      type = types.enum [ "shutdown" "suspend" ];
      default = "shutdown";
      description = ''
        What happens to running VMs when the host shuts down: "shutdown" shuts each down through
        ACPI (file systems cleanly closed; what runs in them is gone), "suspend" saves its memory
        to disk and resumes it at boot (sessions survive; a QEMU upgrade in between can refuse the
        saved state).
      '';
    };

    shutdownTimeout = mkOption {
      type = types.ints.positive;
      default = 300;
      description = "Seconds the VMs get to shut down or be saved when the host shuts down.";
    };

    backups = {
      enable = mkEnableOption "a timer that backs up the project disk of every running project (project-vm backup --all; logs in the journal, a failure fails the unit)";

      schedule = mkOption {
        type = types.str;
        default = "daily";
        example = "*-*-* 02:30:00";
        description = ''
          When the backups run: a systemd calendar expression (OnCalendar). The timer is
          persistent: a run missed while the host was off happens at its next boot.
        '';
      };

      stacksDir = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/home/admin/project-vms";
        description = ''
          The project-vms checkout holding the stack files (Pulumi.<host>.yaml), as given to
          project-vm --dir. Required when backups are enabled.
        '';
      };

      host = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "storage";
        description = "The stack of this host (project-vm --host); null when the checkout has only one.";
      };

      user = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = ''
          The user the backups run as (it must reach libvirt and read the stack files); null: the
          first of adminUsers.
        '';
      };
    };
  };

  config = mkIf cfg.enable {
    virtualisation.libvirtd = {
      enable = true;
      qemu = {
        package = pkgs.qemu_kvm;
        # QEMU runs as its own unprivileged user; libvirt gives it the disks it needs.
        runAsRoot = false;
      };
      onBoot = if cfg.restoreRunningVms then "start" else "ignore";
      onShutdown = cfg.onHostShutdown;
      inherit (cfg) shutdownTimeout;
    };

    # Pools are made in here by the stacks (virsh pool-define/pool-build as the admin user).
    systemd.tmpfiles.rules = [ "d ${cfg.storageDir} 0711 root root - -" ];

    # A name that is not a defined user fails NixOS's own check (isNormalUser or isSystemUser).
    users.users = lib.genAttrs cfg.adminUsers (_: { extraGroups = [ "libvirtd" ]; });

    # qemu+ssh runs libvirt's virt-ssh-helper (or nc) on the host over an ordinary SSH login.
    services.openssh.enable = lib.mkDefault true;

    networking.firewall.trustedInterfaces = optional (cfg.networkBridge != null) cfg.networkBridge;

    environment.systemPackages = [
      cfg.package
      pkgs.pulumi-bin
      pkgs.nodejs_20
      pkgs.libvirt
      pkgs.cdrkit
      pkgs.openssh
      pkgs.jq
      pkgs.curl
    ];

    # project-vm backup --all as a oneshot service on a timer: its output is in the journal
    # (journalctl -u project-vms-backup), and a failed backup fails the unit (systemctl --failed).
    systemd.services.project-vms-backup = mkIf cfg.backups.enable {
      description = "project-vms: back up the project disks of the running VMs";
      after = [ "libvirtd.service" "network-online.target" ];
      wants = [ "network-online.target" ];
      # backup.sh runs in bash with awk and virsh.
      path = [ pkgs.bash pkgs.gawk pkgs.libvirt ];
      serviceConfig = {
        Type = "oneshot";
        User = backupUser;
        ExecStart = lib.concatStringsSep " " ([ "${cfg.package}/bin/project-vm" "--dir" (toString cfg.backups.stacksDir) ]
          ++ lib.optionals (cfg.backups.host != null) [ "--host" cfg.backups.host ] ++ [ "backup" "--all" ]);
      };
    };
    systemd.timers.project-vms-backup = mkIf cfg.backups.enable {
      description = "project-vms: back up the project disks (${cfg.backups.schedule})";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.backups.schedule;
        Persistent = true;
        RandomizedDelaySec = "10m";
      };
    };

    assertions = [
      {
        assertion = !cfg.backups.enable || (cfg.backups.stacksDir != null && backupUser != null);
        message = "services.project-vms.backups needs stacksDir (the checkout with the stack files) and a user (backups.user or an adminUsers entry)";
      }
      # ExecStart is split by systemd, which also expands %-specifiers and $variables: the values
      # that reach it are allow-listed (no space, quote, backslash, % or $), so none is reread.
      {
        assertion = !cfg.backups.enable || cfg.backups.stacksDir == null
          || builtins.match "/[A-Za-z0-9._/+@-]*" (toString cfg.backups.stacksDir) != null;
        message = "services.project-vms.backups.stacksDir must be an absolute path of letters, digits and . _ / + @ - (it is a word of the backup unit's ExecStart); got ${toString cfg.backups.stacksDir}";
      }
      {
        assertion = !cfg.backups.enable || cfg.backups.host == null || builtins.match "[A-Za-z0-9_.-]+" cfg.backups.host != null;
        message = "services.project-vms.backups.host must be a stack name (letters, digits, _ . -); got ${toString cfg.backups.host}";
      }
      {
        assertion = lib.hasPrefix "/" cfg.storageDir && !(lib.hasInfix " " cfg.storageDir);
        message = "services.project-vms.storageDir must be an absolute path without spaces, as the stacks' storageDir; got ${cfg.storageDir}";
      }
    ];
  };
}
