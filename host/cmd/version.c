/* `titan-host version`: the version and the libraries it runs on. */
#include <stdio.h>

#include <curl/curl.h>
#include <lua.h>

#include "cmd.h"
#include "version.h"

static int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("titan-host %s (%s, %s)\n", TITAN_VERSION, LUA_RELEASE, curl_version());
    return EXIT_OK;
}

const command cmd_version_command = {"version", cmd_version, "version                     print the version",
                                     "usage: titan-host version   (also: titan-host --version, titan-host -V)\n\n"
                                     "The version of titan-host and of the Lua and libcurl it runs on.\n"};
