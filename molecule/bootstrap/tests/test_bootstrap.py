"""A bootstrapped host: accounts, sudo rule, hardened sshd, layout; key login works, the rest is refused."""

import os
import re
import subprocess

import pytest

KEY = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "deploy_key")


def ssh(host, user, *options):
    address = host.interface("eth0").addresses[0]
    return subprocess.run(
        [
            "ssh",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            *options,
            "%s@%s" % (user, address),
            "id -un",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_app_account_cannot_log_in(host):
    app = host.user("tmsapp")
    assert app.shell == "/usr/sbin/nologin"
    assert app.uid < 1000


def test_deploy_password_is_a_sha512_hash(host):
    shadow = host.run("getent shadow deploy").stdout.split(":")[1]
    assert shadow.startswith("$6$")
    assert "not-a-real-password" not in shadow


def test_sudo_rule_is_narrow_and_valid(host):
    rule = host.file("/etc/sudoers.d/steadyops-deploy")
    assert rule.mode == 0o440
    assert host.run("visudo -c").rc == 0
    listing = host.run("sudo -l -U deploy").stdout
    assert "/usr/bin/systemctl restart tms-backend.service" in listing
    assert "(ALL) ALL" not in listing


def test_sshd_config_is_valid_and_hardened(host):
    assert host.run("sshd -t").rc == 0
    effective = host.run("sshd -T").stdout
    assert "passwordauthentication no" in effective
    assert "permitrootlogin no" in effective
    assert host.service("ssh").is_running


def test_layout(host):
    for path, owner, mode in [("/opt/tms/releases", "deploy", 0o755), ("/opt/tms/shared", "root", 0o750)]:
        entry = host.file(path)
        assert entry.is_directory
        assert entry.user == owner
        assert entry.group == "tmsapp"
        assert entry.mode == mode


def test_operator_logs_in_with_the_key(host):
    result = ssh(host, "deploy", "-i", KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deploy"


@pytest.mark.parametrize("user", ["deploy", "root"])
def test_password_logins_are_refused(host, user):
    result = ssh(
        host, user, "-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no"
    )
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_the_second_host_runs_debian_13_beside_debian_12(host):
    # scripts/molecule.sh gives this scenario's staging-2 the Debian 13 image.
    release = host.file("/etc/os-release").content_string
    expected = "13" if host.backend.get_hostname().endswith("staging-2") else "12"
    assert 'VERSION_ID="%s"' % expected in release, "run it as scripts/molecule.sh bootstrap does"


def test_application_database_accepts_its_role_over_tcp(host):
    result = host.run("PGPASSWORD=db-password-for-tests psql -h 127.0.0.1 -U tms -d tms -tAc 'select current_user'")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "tms"


def test_nginx_proxies_to_the_services(host):
    assert host.run("nginx -t").rc == 0
    assert host.service("nginx").is_running
    site = host.file("/etc/nginx/sites-enabled/steadyops.conf").content_string
    assert "location /api/ {" in site
    assert "proxy_pass http://steadyops-tms-backend;" in site
    assert "server 127.0.0.1:8000;" in site
    # Nothing listens behind it in this scenario: nginx itself answers, with 502.
    probe = "import http.client as h; c = h.HTTPConnection('127.0.0.1'); c.request('GET', '/api/'); "
    probe += "print(c.getresponse().status)"
    assert host.check_output('python3 -c "%s"' % probe) == "502"


def test_git_access_for_the_deploy_account(host):
    key = host.file("/home/deploy/.ssh/id_deploy")
    assert key.user == "deploy"
    assert key.mode == 0o600
    assert key.content_string.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert "git.example.internal ssh-ed25519 " in host.file("/home/deploy/.ssh/known_hosts").content_string


def test_nodejs_is_pinned_and_held(host):
    pinned = host.file("/root/nodejs-candidate").content_string.strip()
    assert host.package("nodejs").version == pinned
    assert "nodejs" in host.check_output("apt-mark showhold")
    assert host.run("node --version").rc == 0


def test_a_play_that_would_lock_out_its_own_account_changes_nothing(host, tmp_path):
    # The guard matters only over SSH, so this play really connects as deploy with its key,
    # then asks for a hardening that keeps no key for deploy.
    watched = "/etc/ssh/sshd_config /etc/ssh/sshd_config.d /home/deploy/.ssh/authorized_keys"
    fingerprint = "find %s -type f -exec sha256sum {} + | sort" % watched
    before = host.check_output(fingerprint)
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    (tmp_path / "hosts.ini").write_text(
        "target ansible_host=%s ansible_user=deploy ansible_ssh_private_key_file=%s "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' "
        "ansible_python_interpreter=/usr/bin/python3\n" % (host.interface("eth0").addresses[0], KEY)
    )
    (tmp_path / "lockout.yml").write_text(
        "- name: Harden sshd with no key for the account this play uses\n"
        "  hosts: target\n"
        "  vars_files: [%s/molecule/bootstrap/vars/stack.yml]\n"
        "  roles:\n"
        "    - role: steadyops.stack.bootstrap\n"
        "      vars: {bootstrap_deploy_authorized_keys: []}\n" % project
    )
    result = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "hosts.ini"), str(tmp_path / "lockout.yml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "This play connects as deploy over SSH, but bootstrap_deploy_authorized_keys is empty" in output
    assert "Nothing was changed." in output
    assert re.search(r"target\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1\s", result.stdout), result.stdout
    assert host.check_output(fingerprint) == before
    assert ssh(host, "deploy", "-i", KEY).returncode == 0


BOOTSTRAP_TAGS = [
    "bootstrap_preflight",
    "bootstrap_packages",
    "bootstrap_time",
    "bootstrap_users",
    "bootstrap_ssh",
    "bootstrap_git",
    "bootstrap_runtimes",
    "bootstrap_layout",
    "bootstrap_postgresql",
    "bootstrap_nginx",
]


@pytest.mark.parametrize("tag", BOOTSTRAP_TAGS)
def test_each_tag_runs_alone_and_changes_nothing(tag):
    # Tags compose: every task a tag runs finds the variables and facts it needs
    # (set under `always`); on a converged host it changes nothing. One host is enough.
    name = os.environ.get("STEADYOPS_LAB_PREFIX", "") + "staging-1"
    converge = os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-l", name, "--tags", tag, converge]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert re.search(r"changed=0\s+unreachable=0\s+failed=0", output), output[-3000:]
