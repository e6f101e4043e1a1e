# svirt/: per-guest MCS labels.
