"""pyvirt-images: fetch the default guest and print where images are.

    python -m pyvirt.images fetch        fetch (once) and print "name path" lines
    python -m pyvirt.images path NAME    print the path of one image or firmware
"""

import argparse
import sys

from pyvirt.errors import PyvirtError
from pyvirt.images import GUEST_IMAGES, IMAGE_NAMES, fetch_guest_images, image_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyvirt-images",
        description="Fetch and cache guest images; print their paths.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="fetch the default riscv64 guest (cached) and print its paths")
    path = commands.add_parser("path", help="print the path of one image (fetching it if needed)")
    path.add_argument("name", choices=IMAGE_NAMES)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fetch":
            images = fetch_guest_images()
            for name in GUEST_IMAGES:
                print(name, getattr(images, name))
        else:
            print(image_path(args.name))
    except PyvirtError as err:
        print(f"pyvirt-images: error: {err}", file=sys.stderr)
        return 1
    return 0
