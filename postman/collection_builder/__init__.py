"""The generator of ../ecommerce.postman_collection.json, one module per Postman folder.

``collection`` assembles the folders (``users``, ``products``, ``orders``, ``old_clients``,
``health``) and writes or checks the JSON; ``requests`` builds Postman items; ``scripts`` gives
the test and pre-request JavaScript that many requests share, kept as real files in ``js/``.
"""
