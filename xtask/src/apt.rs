//! Installing a missing tool from Debian's packages, as root or through `sudo -n` (never
//! a password prompt, which would hang a CI run).

use std::process::Command;

use crate::run;

/// `apt-get install` of `packages`, and when that fails, `apt-get update` and a second try
/// (a fresh image has no package lists; old lists may name a version the mirror dropped).
/// `missing` says what is missing, for the messages.
pub(crate) fn install(packages: &[&str], missing: &str) -> Result<(), String> {
    if Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!("{missing} is missing and there is no apt-get to install {}", packages.join(" ")));
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt_get = || {
        let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            cmd.args(["-n", "apt-get"]);
        }
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    let install = || run(apt_get().args(["install", "-y", "--no-install-recommends"]).args(packages));
    if install().is_ok() {
        return Ok(());
    }
    eprintln!("xtask: the install failed; updating the package lists and trying again");
    run(apt_get().arg("update"))
        .and_then(|()| install())
        .map_err(|e| format!("cannot install Debian's {} ({missing}): {e}", packages.join(" ")))
}
