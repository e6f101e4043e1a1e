# tests/: lab tests and benchmarks that belong to no one subsystem.
LAB_TESTS += tests/lab/test-lab-basics tests/lab/test-kvm-smoke tests/lab/test-demo

# Tools the lab itself runs (build/lab/bin).
LAB_TOOLS += lab-selinux
lab-selinux_SRCS := tests/lab/lab-selinux.c
lab-selinux_PKGS := libselinux
LAB_TOOLS += kvm-smoke
kvm-smoke_SRCS := tests/lab/kvm-smoke.c
