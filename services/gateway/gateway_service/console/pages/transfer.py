"""(a page module of the console: being written)"""
