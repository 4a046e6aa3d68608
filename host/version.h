/* The version string printed by `titan-host version` and sent as the User-Agent. */
#ifndef TITAN_VERSION_H
#define TITAN_VERSION_H
#define TITAN_VERSION "0.1.0"
#endif
