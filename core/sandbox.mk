# core/ jail and seccomp (the least-privilege issue).
