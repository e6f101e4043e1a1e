# core/ virtio devices (the virtio issue).
