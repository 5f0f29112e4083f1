"""Write ecommerce.postman_collection.json: every public route, in an order that runs green.

The collection is generated so that its test scripts stay readable and consistent (one helper
per kind of assertion instead of hand-copied JavaScript). The generator is the package
``collection_builder/`` beside this file: one module per Postman folder, and the JavaScript the
requests share as files in ``collection_builder/js/``. Edit them and run

    python3 postman/build_collection.py

then commit them and the JSON. ``--check`` exits 1 when the JSON on disk is not what they write.

The run is self-contained: it registers its own users (unique per run), lists its own products,
and needs only the admin login from the environment. Requests run in the order the folders list
them; the flow carries tokens and ids in collection variables. Folders: Users, Products, Orders,
Old clients (cookie only: the old Node.js system's calls as its clients made them), Health & docs.
"""

from __future__ import annotations

import sys

from collection_builder.collection import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
