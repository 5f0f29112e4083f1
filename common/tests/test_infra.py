import socket

from ecommerce_common import infra


def test_free_ports_are_distinct_and_can_be_bound():
    ports = infra.free_ports(40)

    assert len(set(ports)) == 40
    sockets = [socket.socket() for _ in ports]
    try:
        for sock, port in zip(sockets, ports, strict=True):
            sock.bind(("127.0.0.1", port))
    finally:
        for sock in sockets:
            sock.close()
