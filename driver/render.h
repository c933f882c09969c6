/* The `render` subcommand (see render.c). */
#ifndef DRV_RENDER_H
#define DRV_RENDER_H

/* argv[1] is "render"; returns the process exit code. */
int drv_render_main(int argc, char **argv, char **envp);

#endif
