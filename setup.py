"""Maps the repository's top-level folders into one namespace-safe package tree.

The folders the design asks for (edge/, export/, server/, firmware_bridge/) install as
``cardiotune.edge``, ``cardiotune.export`` ... so nothing with a generic name such as
``server`` or ``export`` lands in site-packages. Subpackages are discovered here so that
adding a folder needs no edit to packaging metadata (everything else is in pyproject.toml).
"""
from setuptools import find_packages, setup

ROOTS = {
    "cardiotune": "cardiotune",
    "cardiotune.edge": "edge",
    "cardiotune.export": "export",
    "cardiotune.server": "server",
    "cardiotune.firmware_bridge": "firmware_bridge",
}

packages, package_dir = [], {}
for name, folder in ROOTS.items():
    packages.append(name)
    package_dir[name] = folder
    for sub in find_packages(folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "": ["*.json", "*.onnx", "*.npz", "*.toml", "*.md", "*.c", "*.h", "*.ino", "py.typed"],
        # shipped models live in plain folders (no __init__.py): name them, or wheels leave them out
        "cardiotune.edge": ["models/*/*.onnx", "models/*/manifest.json"],
    },
    include_package_data=True,
)
