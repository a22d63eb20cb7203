"""The lab scripts fail clearly on a bad environment and leave nothing half-built.

These run the real scripts against real failures: an unreachable mirror, a
filesystem that is really full, a dockerd that really cannot start.
"""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = ROOT / "scripts/lab/base-image.sh"
DOCKER_ENGINE = ROOT / "scripts/lab/docker-engine.sh"


def run(script, env_extra, timeout=300):
    env = {**os.environ, **env_extra}
    return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def image_exists(name):
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True, check=False).returncode == 0


@pytest.fixture
def throwaway_image():
    name = f"steadyops-test/never-built-{uuid.uuid4().hex[:8]}:latest"
    yield name
    subprocess.run(["docker", "image", "rm", "-f", name], capture_output=True, check=False)


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A real 8 MiB tmpfs: debootstrap needs far more, so the space check must refuse."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mountpoint)], check=True)
    yield mountpoint
    subprocess.run(["umount", str(mountpoint)], check=False)


def test_unreachable_mirror_names_the_step_and_leaves_no_image(as_root, tmp_path, throwaway_image):
    build_dir = tmp_path / "build"
    build_dir.mkdir()
    result = run(
        BASE_IMAGE,
        {
            "STEADYOPS_IMAGE": throwaway_image,
            "STEADYOPS_BUILD_DIR": str(build_dir),
            # Nothing listens on the discard port: debootstrap fails at once.
            "STEADYOPS_DEBIAN_MIRROR": "http://127.0.0.1:9/debian",
        },
    )
    assert result.returncode == 1
    assert f'FAILED in step "systemd base image {throwaway_image}"' in result.stderr
    assert "debootstrap of bookworm from http://127.0.0.1:9/debian failed" in result.stderr
    assert "What to do:" in result.stderr
    assert not image_exists(throwaway_image)
    assert list(build_dir.iterdir()) == [], "a failed build must not leave its root filesystem behind"


def test_full_disk_is_refused_before_anything_is_built(as_root, tiny_filesystem, throwaway_image):
    result = run(BASE_IMAGE, {"STEADYOPS_IMAGE": throwaway_image, "STEADYOPS_BUILD_DIR": str(tiny_filesystem)})
    assert result.returncode == 1
    assert "debootstrap needs 1024 MiB" in result.stderr
    assert "free disk space" in result.stderr
    assert not image_exists(throwaway_image)
    assert list(tiny_filesystem.iterdir()) == []


def test_unknown_distro_lists_the_known_ones():
    env = {**os.environ}
    result = subprocess.run(
        ["bash", str(BASE_IMAGE), "plan9"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 1
    assert "unknown distro 'plan9'" in result.stderr
    assert "debian12" in result.stderr


def test_dockerd_that_cannot_start_is_reported_with_its_log(as_root, tmp_path):
    assert shutil.which("dockerd"), "make setup installs dockerd before the tests run"
    # A second dockerd on a socket nobody answers on: it finds the real engine's
    # pid file and exits, which is exactly "no engine can start".
    log = tmp_path / "dockerd.log"
    result = run(
        DOCKER_ENGINE,
        {
            "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock",
            "STEADYOPS_DOCKERD_LOG": str(log),
            "STEADYOPS_DOCKERD_WAIT": "20",
        },
        timeout=60,
    )
    assert result.returncode == 1
    assert 'FAILED in step "Docker engine"' in result.stderr
    assert "dockerd did not answer" in result.stderr
    assert str(log) in result.stderr
    # The engine the lab uses is untouched.
    assert subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def test_setup_twice_changes_nothing_the_second_time():
    first = subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    assert "setup: nothing changed" in second.stdout
    assert "[changed]" not in second.stdout
