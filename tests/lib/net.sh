# Loopback ports for servers a test starts (registries, sshd, proxies).
#   free_port    a TCP port on 127.0.0.1 that was free a moment ago
# (the kernel chooses it; the caller binds it soon after).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
