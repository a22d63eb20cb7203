"""The collection builds into a tarball that installs offline and exposes its content."""

import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_build_and_offline_install(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        ["ansible-galaxy", "collection", "build", "--output-path", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (tarball,) = dist.glob("steadyops-stack-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "galaxy.yml" not in names  # the build writes MANIFEST.json instead
    assert "MANIFEST.json" in names
    assert "meta/runtime.yml" in names
    assert not [n for n in names if n.startswith((".venv", ".cache", "scripts/", "tests/output"))]

    install_dir = tmp_path / "collections"
    subprocess.run(
        ["ansible-galaxy", "collection", "install", "--offline", "-p", str(install_dir), str(tarball)],
        check=True,
        capture_output=True,
    )
    listed = subprocess.run(
        ["ansible-galaxy", "collection", "list", "-p", str(install_dir), "steadyops.stack"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "steadyops.stack" in listed.stdout
