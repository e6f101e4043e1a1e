# attest/: vTPM, measured boot, event log, attestation, the verifier.
