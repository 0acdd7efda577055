"""Vendor Leaflet and its plugins from npm into ``maps/static/vendor`` (run once, when a version changes).

    .venv/bin/python -m maps.vendor          # fetch with `npm pack`, check integrity, extract, write MANIFEST.json
    .venv/bin/python -m maps.vendor --check  # verify the files in the tree against MANIFEST.json

npm is used (not a CDN, not a PyPI wrapper) because it publishes the upstream builds themselves with a
sha512 integrity per tarball; the pinned integrities live in :mod:`maps.assets`. The extracted files are
kept in the source tree so that neither the build nor the running service needs the network.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from maps.assets import MANIFEST, NPM_PACKAGES, VENDOR_DIR, NpmPackage


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fetch(pkg: NpmPackage, workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to vendor the map assets (apt-get install npm)")
    out = subprocess.run([npm, "pack", f"{pkg.name}@{pkg.version}", "--json", "--pack-destination", str(workdir)],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)[0]
    tarball: Path = workdir / info["filename"]
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != pkg.integrity:
        raise SystemExit(f"{pkg.name}@{pkg.version}: integrity {digest} differs from the pinned {pkg.integrity}")
    return tarball


def vendor() -> dict[str, Any]:
    """Fetch every package, extract its served files and write the manifest; returns the manifest."""
    manifest: dict[str, Any] = {"packages": [], "files": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in NPM_PACKAGES:
            tarball = _fetch(pkg, Path(tmp))
            with tarfile.open(tarball) as tar:
                for member, target in pkg.files.items():
                    source = tar.extractfile(member)
                    if source is None:
                        raise SystemExit(f"{pkg.name}: {member} is not a file in the tarball")
                    dest = VENDOR_DIR / target
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(source.read())
                    manifest["files"][target] = _sha256(dest)
            manifest["packages"].append({"name": pkg.name, "version": pkg.version, "license": pkg.license,
                                         "integrity": pkg.integrity, "source": "registry.npmjs.org"})
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def check() -> list[str]:
    """Problems with the vendored files (missing or changed since vendoring); empty when all is well."""
    if not MANIFEST.exists():
        return [f"{MANIFEST} is missing: run python -m maps.vendor"]
    files: dict[str, str] = json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]
    problems = []
    for name, digest in sorted(files.items()):
        path = VENDOR_DIR / name
        if not path.exists():
            problems.append(f"{name} is missing")
        elif _sha256(path) != digest:
            problems.append(f"{name} differs from the vendored copy")
    return problems


def main() -> None:
    """Command line: vendor, or check with ``--check``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify the vendored files against the manifest")
    if parser.parse_args().check:
        problems = check()
        print("\n".join(problems) or "vendored map assets are complete")
        sys.exit(1 if problems else 0)
    manifest = vendor()
    print(f"vendored {len(manifest['files'])} files from {len(manifest['packages'])} npm packages into {VENDOR_DIR}")


if __name__ == "__main__":
    main()
