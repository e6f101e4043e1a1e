# policy/: the SELinux policy (CIL) and its offline checker.
