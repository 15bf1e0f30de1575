#!/bin/bash
# A private OpenSSH server for the suites that go through ssh, root only
# (sshd runs privilege-separated; the client logs in as root with a key).
#
# Sourced (by a suite, after tests/lib.sh):
#   sshd_keys DIR
#       DIR (mode 700) with a client key DIR/client that may log in as root
#       (DIR/authorized_keys); /run/sshd, sshd's privilege separation
#       directory, made (and removed at exit) only if the machine has none.
#   sshd_config NAME ADDRESS PORT
#       a host key DIR/NAME.key and a config DIR/NAME.conf (DIR as given to
#       sshd_keys) for an sshd on ADDRESS:PORT that takes key logins only;
#       dies if sshd -t refuses it.  Run it in the foreground, so its PID
#       is the suite's: spawn NAME "$SSHD" -D -e -f DIR/NAME.conf
SSHD=$(command -v sshd || echo /usr/sbin/sshd)

sshd_keys() {
	T_SSH=$1
	[ -x "$SSHD" ] || die "sshd is not installed (share/install-deps installs openssh-server)"
	command -v ssh-keygen >/dev/null || die "ssh-keygen is not installed"
	mkdir -p "$T_SSH"
	chmod 700 "$T_SSH"
	ssh-keygen -q -t ed25519 -N '' -C mxlb-test-client -f "$T_SSH/client" >/dev/null 2>&1 ||
		die "ssh-keygen: no client key"
	cp "$T_SSH/client.pub" "$T_SSH/authorized_keys"
	chmod 600 "$T_SSH/authorized_keys"
	if [ ! -d /run/sshd ]; then
		mkdir -m 755 /run/sshd && at_exit "rmdir /run/sshd"
	fi
}

sshd_config() {
	local name=$1 f=$T_SSH/$1.conf
	ssh-keygen -q -t ed25519 -N '' -C "mxlb-test-host-$name" -f "$T_SSH/$name.key" >/dev/null 2>&1 ||
		die "ssh-keygen: no host key for $name"
	cat >"$f" <<CONF
Port $3
ListenAddress $2
HostKey $T_SSH/$name.key
PidFile $T_SSH/$name.pid
AuthorizedKeysFile $T_SSH/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
StrictModes no
PrintMotd no
PrintLastLog no
AllowTcpForwarding no
X11Forwarding no
MaxStartups 50
LogLevel VERBOSE
CONF
	timeout 10 "$SSHD" -t -f "$f" >"$T_DIR/$name-t.log" 2>&1 ||
		die "sshd -t refuses $f: $(head -3 "$T_DIR/$name-t.log" | tr '\n' ' ')"
}
