# dcn-builder (and the dcn-hoster that `package` puts into the hosting image)
# in a Debian 12 container, for builder hosts scripts/install-deps does not
# support: it installs Debian 12 packages with apt-get, nothing else (RHEL 9,
# Fedora, Ubuntu... run this image instead). See docs/operator-guide.md,
# section 1.
#
#   podman build -f containerfiles/Containerfile.builder -t localhost/dcn-builder .
#
# The repository, the state directory and the credentials stay on the host:
# mount them (/srv/dcn, /etc/dcn). oc/kubectl and virtctl are not Debian
# packages: mount the host's (static binaries) or add them in an image FROM
# this one. The build context is the repository root. BASE must be
# reachable: the project's tests run offline and cannot pull it, so this file
# is not built in ctest.
ARG BASE=docker.io/library/debian:bookworm
FROM ${BASE}
COPY scripts/ /src/scripts/
# build: compilers and libraries; at run time dcn-builder also runs ssh and
# ssh-keygen (the build VM), gpg (signing) and talks https (CA certificates)
RUN /src/scripts/install-deps build \
 && apt-get install -y -qq --no-install-recommends openssh-client gnupg ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
# DCN_WERROR=OFF: a warning a newer or other compiler finds must not stop an image build
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DDCN_TESTS=OFF -DDCN_WERROR=OFF \
 && cmake --build /build -j"$(nproc)" \
 && cmake --install /build --prefix /usr/local \
 && rm -rf /build /src
ENTRYPOINT ["/usr/local/bin/dcn-builder"]
