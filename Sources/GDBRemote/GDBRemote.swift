// GDBRemote
