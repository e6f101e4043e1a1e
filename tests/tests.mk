# tests/: lab tests and benchmarks that belong to no one subsystem.
LAB_TESTS += tests/lab/test-lab-basics tests/lab/test-kvm-smoke
